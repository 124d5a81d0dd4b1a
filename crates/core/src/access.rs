//! Authentication and authorization: users with argon2id passwords, console sessions, API
//! refresh tokens exchanged for short-lived access tokens, and roles per project.
//!
//! Every secret (session, refresh or access token) is 32 random bytes shown once; the store
//! keeps only its BLAKE3 hash, so a leaked database holds no usable credential. A refresh
//! token acts as the user who made it, with that user's current roles.

use crate::error::{Error, Result};
use crate::scope::Principal;
use crate::services::Services;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use cairn_model::{ApiToken, Grant, OrganizationId, Role, TokenId, User, UserId};
use chrono::{DateTime, Duration, Utc};

/// How long a console session lasts after signing in.
pub const SESSION_LIFETIME: Duration = Duration::days(7);
/// How long an access token from `POST /oauth/token` is good for (its `expires_in`).
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::hours(1);
/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Shortest and longest lifetime an API token may be given (it may also have none).
pub const MIN_API_TOKEN_LIFETIME: Duration = Duration::hours(1);
pub const MAX_API_TOKEN_LIFETIME: Duration = Duration::days(366);
/// How long a sign-in waits for a turn at password hashing before it is refused.
pub const HASHING_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What a stored credential is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// A signed-in browser (cookie).
    Session,
    /// An API token: long-lived, exchanged for access tokens, revoked in the console.
    Refresh,
    /// A short-lived bearer token for API calls, made from a refresh token.
    Access,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Session => "session",
            CredentialKind::Refresh => "refresh",
            CredentialKind::Access => "access",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Session, Self::Refresh, Self::Access]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// Secrets say what they are (and secret scanners can find them).
    fn prefix(self) -> &'static str {
        match self {
            CredentialKind::Session => "cairn_s_",
            CredentialKind::Refresh => "cairn_rt_",
            CredentialKind::Access => "cairn_at_",
        }
    }
}

/// A credential as stored: never the secret, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub id: TokenId,
    pub kind: CredentialKind,
    pub user_id: UserId,
    /// BLAKE3 of the secret, hex.
    pub hash: String,
    pub description: String,
    /// The refresh token an access token was made from: revoking it revokes them too.
    pub parent: Option<TokenId>,
    pub created: DateTime<Utc>,
    pub expires: Option<DateTime<Utc>>,
    pub last_used: Option<DateTime<Utc>>,
    pub revoked: Option<DateTime<Utc>>,
}

impl Credential {
    fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked.is_none() && self.expires.is_none_or(|expires| now < expires)
    }

    fn api_token(&self) -> ApiToken {
        ApiToken {
            id: self.id.clone(),
            user_id: self.user_id.clone(),
            description: self.description.clone(),
            created: self.created,
            last_used: self.last_used,
            revoked: self.revoked,
            expires: self.expires,
        }
    }
}

/// A new access token, as `POST /oauth/token` answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrant {
    pub access_token: String,
    pub expires_in: i64,
}

/// A fresh secret of a kind, and the hash that is stored for it.
fn new_secret(kind: CredentialKind) -> (String, String) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let secret = format!("{}{hex}", kind.prefix());
    let hash = hash_secret(&secret);
    (secret, hash)
}

/// A one-time code for the first-start setup page: 12 random letters and digits in three
/// groups, easy to copy from a log (no 0/O or 1/l to confuse).
pub fn setup_code() -> String {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    let mut bytes = [0u8; 12];
    OsRng.fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

pub fn hash_secret(secret: &str) -> String {
    blake3::hash(secret.as_bytes()).to_hex().to_string()
}

/// Argon2 is built to be slow (tens of milliseconds of CPU and 19 MiB each): it runs on the
/// blocking pool, a few at a time, so a flood of sign-ins cannot stall pages and API calls nor
/// eat the memory. A sign-in that finds no free turn within its wait is refused
/// ([`Error::Unavailable`]) instead of joining a queue that grows without bound; a turn is held
/// until the hashing itself ends, even when the request that asked for it has gone.
pub struct Hashing {
    turns: std::sync::Arc<tokio::sync::Semaphore>,
    wait: std::time::Duration,
}

impl Hashing {
    pub fn new(turns: usize, wait: std::time::Duration) -> Hashing {
        Hashing {
            turns: std::sync::Arc::new(tokio::sync::Semaphore::new(turns)),
            wait,
        }
    }

    /// The process's one: two turns per core (hashing is CPU work), waiting [`HASHING_WAIT`].
    pub fn shared() -> &'static Hashing {
        static SHARED: std::sync::OnceLock<Hashing> = std::sync::OnceLock::new();
        SHARED.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            Hashing::new(2 * cores, HASHING_WAIT)
        })
    }

    /// How many turns are free now.
    pub fn free_turns(&self) -> usize {
        self.turns.available_permits()
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let turn = tokio::time::timeout(self.wait, self.turns.clone().acquire_owned())
            .await
            .map_err(|_| {
                Error::Unavailable("too many sign-ins at once; try again in a few seconds".into())
            })?
            .map_err(Error::internal)?;
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(turn);
            result
        })
        .await
        .map_err(Error::internal)
    }

    pub async fn hash_password(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(Error::internal)
        })
        .await?
    }

    pub async fn verify_password(&self, password: &str, stored: &str) -> Result<bool> {
        let (password, stored) = (password.to_owned(), stored.to_owned());
        self.run(move || password_matches(&password, &stored)).await
    }
}

async fn hash_password(password: &str) -> Result<String> {
    Hashing::shared().hash_password(password).await
}

async fn verify_password(password: &str, stored: &str) -> Result<bool> {
    Hashing::shared().verify_password(password, stored).await
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// An email as stored (trimmed, lower case), or a field error.
fn normalize_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let plausible = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !email.contains(char::is_whitespace);
    if plausible {
        Ok(email)
    } else {
        Err(Error::invalid(
            "email",
            "an email address like ops@example.com is required",
        ))
    }
}

fn check_password(password: &str) -> Result<()> {
    password_rule(password).map_err(|message| Error::invalid("password", message))
}

/// What every password must be, on creation and on every change.
fn password_rule(password: &str) -> std::result::Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!("at least {MIN_PASSWORD_LEN} characters"));
    }
    Ok(())
}

/// A lifetime as people write it: `30d`, `12h`, `2w`; `never` (or nothing) for none. It must
/// be one an API token may have.
pub fn parse_lifetime(text: &str) -> std::result::Result<Option<Duration>, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    let unclear = || format!("'{text}' is not a lifetime: write it like 30d, 12h or 2w, or never");
    let unit = text.chars().last().ok_or_else(unclear)?;
    let number: i64 = text[..text.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| unclear())?;
    let lifetime = match unit {
        'h' => Duration::try_hours(number),
        'd' => Duration::try_days(number),
        'w' => Duration::try_weeks(number),
        _ => None,
    }
    .ok_or_else(unclear)?;
    lifetime_rule(lifetime)?;
    Ok(Some(lifetime))
}

/// An API token's lifetime, if given, within [`MIN_API_TOKEN_LIFETIME`] and
/// [`MAX_API_TOKEN_LIFETIME`].
fn lifetime_rule(lifetime: Duration) -> std::result::Result<(), String> {
    if lifetime < MIN_API_TOKEN_LIFETIME || lifetime > MAX_API_TOKEN_LIFETIME {
        return Err(format!(
            "a token lasts from {} hour to {} days, or until it is revoked",
            MIN_API_TOKEN_LIFETIME.num_hours(),
            MAX_API_TOKEN_LIFETIME.num_days()
        ));
    }
    Ok(())
}

fn unauthenticated() -> Error {
    Error::Unauthenticated("sign in again: the credential is unknown, expired or revoked".into())
}

impl Services {
    /// Whether anyone can sign in yet (the setup page is offered until someone can).
    pub async fn has_users(&self) -> Result<bool> {
        Ok(self.inner().store.count_users().await? > 0)
    }

    /// Creates a user with a role in the given organization (and project; all its projects
    /// when `None`).
    pub async fn create_user(
        &self,
        email: &str,
        password: &str,
        role: Role,
        organization: &OrganizationId,
        project: Option<&cairn_model::ProjectId>,
    ) -> Result<User> {
        self.insert_user(email, password, role, organization, project, false)
            .await
    }

    /// The first user: admin of the whole default organization. Refused once anyone exists,
    /// also when two instances race to set up.
    pub async fn create_first_admin(&self, email: &str, password: &str) -> Result<User> {
        let scope = self.default_scope().await?;
        self.insert_user(
            email,
            password,
            Role::Admin,
            &scope.organization_id,
            None,
            true,
        )
        .await
    }

    async fn insert_user(
        &self,
        email: &str,
        password: &str,
        role: Role,
        organization: &OrganizationId,
        project: Option<&cairn_model::ProjectId>,
        only_first: bool,
    ) -> Result<User> {
        // Both fields are checked before either is refused: a form shows every problem at once.
        let email = match (normalize_email(email), check_password(password)) {
            (Ok(email), Ok(())) => email,
            (Err(Error::Invalid(mut fields)), Err(Error::Invalid(more))) => {
                fields.extend(more);
                return Err(Error::Invalid(fields));
            }
            (Err(error), _) | (_, Err(error)) => return Err(error),
        };
        if let Some(project) = project {
            self.project_of(organization, project).await?;
        } else {
            self.organization(organization).await?;
        }
        let raw = self.inner().ids.next(self.inner().clock.as_ref());
        let user = User {
            id: UserId::from_raw(raw),
            email,
            created: raw.time(),
        };
        let grant = Grant {
            user_id: user.id.clone(),
            organization_id: organization.clone(),
            project_id: project.cloned(),
            role,
        };
        let hash = hash_password(password).await?;
        let inserted = self
            .inner()
            .store
            .insert_user(&user, &hash, &[grant], only_first)
            .await?;
        if !inserted {
            return Err(Error::conflict("Cairn is already set up: sign in instead"));
        }
        Ok(user)
    }

    /// Gives a user a role (replacing the one they had at that place), in a project that
    /// is the organization's, or in all of an organization that exists.
    pub async fn grant(&self, grant: &Grant) -> Result<()> {
        match &grant.project_id {
            Some(project) => drop(self.project_of(&grant.organization_id, project).await?),
            None => drop(self.organization(&grant.organization_id).await?),
        }
        let _writing = self.inner().access_checks.writing();
        self.inner().store.put_grant(grant).await?;
        Ok(())
    }

    pub async fn user_by_email(&self, email: &str) -> Result<User> {
        let email = normalize_email(email)?;
        self.inner()
            .store
            .user_by_email(&email)
            .await?
            .map(|(user, _)| user)
            .ok_or_else(|| Error::not_found("user", email))
    }

    /// Signs in with a password: a new session secret (for a cookie).
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<(User, String)> {
        let found = match normalize_email(email) {
            Ok(email) => self.inner().store.user_by_email(&email).await?,
            Err(_) => None,
        };
        // Unknown emails cost as much as wrong passwords: timing tells nothing.
        let matches = match &found {
            Some((_, hash)) => verify_password(password, hash).await?,
            None => {
                verify_password(password, DUMMY_HASH).await?;
                false
            }
        };
        let Some((user, _)) = found.filter(|_| matches) else {
            return Err(Error::Unauthenticated(
                "the email or the password is wrong".into(),
            ));
        };
        let now = self.inner().clock.now();
        let (secret, _) = self
            .issue(
                &user.id,
                CredentialKind::Session,
                "console session",
                None,
                Some(now + SESSION_LIFETIME),
            )
            .await?;
        Ok((user, secret))
    }

    pub async fn sign_out(&self, session_secret: &str) -> Result<()> {
        if let Some(credential) = self
            .live_credential(session_secret, CredentialKind::Session)
            .await?
        {
            let now = self.inner().clock.now();
            self.inner()
                .store
                .revoke_credential(&credential.user_id, &credential.id, now)
                .await?;
        }
        Ok(())
    }

    /// The user of a console session.
    pub async fn session_principal(&self, session_secret: &str) -> Result<Principal> {
        let credential = self
            .live_credential(session_secret, CredentialKind::Session)
            .await?
            .ok_or_else(unauthenticated)?;
        self.principal(&credential.user_id).await
    }

    /// The user of an API access token (`Authorization: Bearer …`).
    /// Who an access token speaks for. The token itself is checked on every call (a revoked
    /// or expired one is refused at once, whichever instance revoked it); who its user is and
    /// what roles they hold is remembered for [`ACCESS_CHECK_KEPT`], so an API client calling
    /// many times a second costs one query a call, not three. Granting a role or creating an
    /// organization through this instance forgets those at once; through another, it counts
    /// here within that time.
    pub async fn access_principal(&self, access_token: &str) -> Result<Principal> {
        let now = self.inner().clock.now();
        let hash = hash_secret(access_token);
        let credential = self
            .live_credential(access_token, CredentialKind::Access)
            .await?
            .ok_or_else(unauthenticated)?;
        if let Some(principal) = self.inner().access_checks.get(&hash, now) {
            return Ok(principal);
        }
        let reading = self.inner().access_checks.reading();
        let principal = self.principal(&credential.user_id).await?;
        let until = credential.expires.map_or(now + ACCESS_CHECK_KEPT, |end| {
            end.min(now + ACCESS_CHECK_KEPT)
        });
        self.inner()
            .access_checks
            .keep(reading, hash, principal.clone(), until);
        Ok(principal)
    }

    /// A new API (refresh) token for a user: its listing, and the secret, shown this once.
    /// With a lifetime it stops working on its own that long from now (see
    /// [`MIN_API_TOKEN_LIFETIME`], [`MAX_API_TOKEN_LIFETIME`]); without, when revoked.
    pub async fn create_api_token(
        &self,
        user: &UserId,
        description: &str,
        lifetime: Option<Duration>,
    ) -> Result<(ApiToken, String)> {
        let mut errors = std::collections::BTreeMap::new();
        if description.trim().is_empty() {
            errors.insert(
                "description".to_owned(),
                "say what the token is for, e.g. \"CI backups\"".to_owned(),
            );
        } else if let Err(message) = cairn_model::check_text(
            "description",
            description,
            cairn_model::text::MAX_DESCRIPTION_LEN,
        ) {
            errors.insert("description".to_owned(), message);
        }
        if let Some(Err(message)) = lifetime.map(lifetime_rule) {
            errors.insert("expiresIn".to_owned(), message);
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let expires = lifetime.map(|lifetime| self.inner().clock.now() + lifetime);
        let (secret, credential) = self
            .issue(
                user,
                CredentialKind::Refresh,
                description.trim(),
                None,
                expires,
            )
            .await?;
        Ok((credential.api_token(), secret))
    }

    /// A user's API tokens, newest first (revoked ones too, marked).
    pub async fn api_tokens(&self, user: &UserId) -> Result<Vec<ApiToken>> {
        let mut tokens: Vec<ApiToken> = self
            .inner()
            .store
            .credentials(user, CredentialKind::Refresh)
            .await?
            .iter()
            .map(Credential::api_token)
            .collect();
        tokens.sort_by_key(|token| std::cmp::Reverse(token.created));
        Ok(tokens)
    }

    /// Revokes one of a user's API tokens and every access token made from it.
    pub async fn revoke_api_token(&self, user: &UserId, id: &TokenId) -> Result<()> {
        let now = self.inner().clock.now();
        let writing = self.inner().access_checks.writing();
        let revoked = self.inner().store.revoke_credential(user, id, now).await?;
        drop(writing);
        if revoked {
            Ok(())
        } else {
            Err(Error::not_found("token", id))
        }
    }

    /// Forgets spent sessions and access tokens (each sign-in and token exchange adds one).
    pub async fn prune_credentials(&self) -> Result<u64> {
        let now = self.inner().clock.now();
        self.inner().store.prune_credentials(now).await
    }

    /// `grant_type=refresh_token`: a new access token for a live refresh token. The access
    /// token never outlives the refresh token it was made from.
    pub async fn exchange_refresh_token(&self, refresh_token: &str) -> Result<AccessGrant> {
        let now = self.inner().clock.now();
        let found = if refresh_token.starts_with(CredentialKind::Refresh.prefix()) {
            self.inner()
                .store
                .credential(&hash_secret(refresh_token))
                .await?
                .filter(|c| c.kind == CredentialKind::Refresh && c.revoked.is_none())
        } else {
            None
        };
        let refresh = match found {
            None => {
                return Err(Error::Unauthenticated(
                    "the refresh token is unknown or revoked".into(),
                ))
            }
            Some(refresh) if !refresh.is_live(now) => {
                return Err(Error::Unauthenticated(
                    "the refresh token has expired".into(),
                ))
            }
            Some(refresh) => refresh,
        };
        self.inner()
            .store
            .touch_credential(&refresh.id, now)
            .await?;
        let expires = refresh.expires.map_or(now + ACCESS_TOKEN_LIFETIME, |end| {
            end.min(now + ACCESS_TOKEN_LIFETIME)
        });
        let (access_token, access) = self
            .issue(
                &refresh.user_id,
                CredentialKind::Access,
                &refresh.description,
                Some(refresh.id.clone()),
                Some(expires),
            )
            .await?;
        // A revoke between the check above and the insert would miss the new token: look
        // again, and take it back if the refresh token is gone.
        if self
            .live_credential(refresh_token, CredentialKind::Refresh)
            .await?
            .is_none()
        {
            self.inner()
                .store
                .revoke_credential(&access.user_id, &access.id, now)
                .await?;
            return Err(Error::Unauthenticated(
                "the refresh token is unknown or revoked".into(),
            ));
        }
        Ok(AccessGrant {
            access_token,
            expires_in: (expires - now).num_seconds(),
        })
    }

    /// Changes a user's password: the current one must be given (checked with the same
    /// bounded hashing as signing in), the new one follows the rules of a new user's and
    /// differs from the current. Every session of the user ends but `keep_session` (the
    /// caller's own, by its secret); API tokens keep working (they are revoked on their own).
    pub async fn change_password(
        &self,
        user: &UserId,
        current_password: &str,
        new_password: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        let user = self
            .inner()
            .store
            .user(user)
            .await?
            .ok_or_else(unauthenticated)?;
        let (_, stored) = self
            .inner()
            .store
            .user_by_email(&user.email)
            .await?
            .ok_or_else(unauthenticated)?;
        let mut errors = std::collections::BTreeMap::new();
        if !verify_password(current_password, &stored).await? {
            errors.insert(
                "currentPassword".to_owned(),
                "this is not your current password".to_owned(),
            );
        }
        if let Err(message) = password_rule(new_password) {
            errors.insert("newPassword".to_owned(), message);
        } else if new_password == current_password {
            errors.insert(
                "newPassword".to_owned(),
                "choose a password other than the current one".to_owned(),
            );
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let keep = self.own_session(&user.id, keep_session).await?;
        let hash = hash_password(new_password).await?;
        let now = self.inner().clock.now();
        if self
            .inner()
            .store
            .set_password_hash(&user.id, &hash, keep.as_ref(), now)
            .await?
        {
            Ok(())
        } else {
            Err(unauthenticated())
        }
    }

    /// Ends every console session of a user but the one whose secret is `keep` (the
    /// caller's); how many ended.
    pub async fn end_other_sessions(&self, user: &UserId, keep: &str) -> Result<u64> {
        let keep = self
            .own_session(user, Some(keep))
            .await?
            .ok_or_else(unauthenticated)?;
        let now = self.inner().clock.now();
        self.inner()
            .store
            .revoke_sessions(user, Some(&keep), now)
            .await
    }

    /// How many live console sessions a user has besides the one whose secret is `current`.
    pub async fn other_sessions(&self, user: &UserId, current: &str) -> Result<usize> {
        let now = self.inner().clock.now();
        let current = hash_secret(current);
        Ok(self
            .inner()
            .store
            .credentials(user, CredentialKind::Session)
            .await?
            .iter()
            .filter(|c| c.is_live(now) && c.hash != current)
            .count())
    }

    /// The id of `user`'s live session with this secret; `None` when no secret is given; a
    /// secret that is not a live session of theirs is refused.
    async fn own_session(&self, user: &UserId, secret: Option<&str>) -> Result<Option<TokenId>> {
        let Some(secret) = secret else {
            return Ok(None);
        };
        self.live_credential(secret, CredentialKind::Session)
            .await?
            .filter(|c| &c.user_id == user)
            .map(|c| Some(c.id))
            .ok_or_else(unauthenticated)
    }

    async fn issue(
        &self,
        user: &UserId,
        kind: CredentialKind,
        description: &str,
        parent: Option<TokenId>,
        expires: Option<DateTime<Utc>>,
    ) -> Result<(String, Credential)> {
        let (secret, hash) = new_secret(kind);
        let raw = self.inner().ids.next(self.inner().clock.as_ref());
        let credential = Credential {
            id: TokenId::from_raw(raw),
            kind,
            user_id: user.clone(),
            hash,
            description: description.to_owned(),
            parent,
            created: self.inner().clock.now(),
            expires,
            last_used: None,
            revoked: None,
        };
        self.inner().store.insert_credential(&credential).await?;
        Ok((secret, credential))
    }

    async fn live_credential(
        &self,
        secret: &str,
        kind: CredentialKind,
    ) -> Result<Option<Credential>> {
        if !secret.starts_with(kind.prefix()) {
            return Ok(None);
        }
        let now = self.inner().clock.now();
        let credential = self.inner().store.credential(&hash_secret(secret)).await?;
        Ok(credential.filter(|c| c.kind == kind && c.is_live(now)))
    }

    async fn principal(&self, user: &UserId) -> Result<Principal> {
        let user = self
            .inner()
            .store
            .user(user)
            .await?
            .ok_or_else(unauthenticated)?;
        let grants = self.inner().store.grants(&user.id).await?;
        Ok(Principal { user, grants })
    }
}

/// How long an access token's check is answered from memory.
pub const ACCESS_CHECK_KEPT: Duration = Duration::seconds(5);
/// At most this many checks are kept (a flood of tokens must not grow it without end).
const ACCESS_CHECKS_HELD: usize = 10_000;

/// Recent answers of [`Services::access_principal`], by the token's hash.
pub(crate) type AccessChecks = crate::kept::Kept<String, Principal>;

pub(crate) fn access_checks() -> AccessChecks {
    AccessChecks::new(ACCESS_CHECKS_HELD)
}

/// An argon2id hash of a password nobody has, checked when the email is unknown.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2HUxSmFwVB3mEAbmAzT2/U9LSvjpUyf0NXL4Qn4BnOY";

#[cfg(test)]
mod tests;
