//! Authentication and authorization: users with argon2id passwords, console sessions, API
//! refresh tokens exchanged for short-lived access tokens, and roles per project.
//!
//! Every secret (session, refresh or access token) is 32 random bytes shown once; the store
//! keeps only its BLAKE3 hash, so a leaked database holds no usable credential. A refresh
//! token acts as the user who made it, with that user's current roles.

mod passwords;
mod tokens;

#[cfg(test)]
use passwords::password_matches;
pub use passwords::Hashing;
use passwords::DUMMY_HASH;
use passwords::{check_password, hash_password, password_rule, verify_password};
pub use tokens::{parse_lifetime, ACCESS_CHECK_KEPT};

use crate::audit::{outcome_of, Record, Subject};
use crate::error::{Error, Result};
pub use crate::ports::{Credential, CredentialKind};
use crate::scope::Principal;
use crate::services::Services;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use cairn_model::audit::actions;
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

impl CredentialKind {
    /// Secrets say what they are (and secret scanners can find them).
    fn prefix(self) -> &'static str {
        match self {
            CredentialKind::Session => "cairn_s_",
            CredentialKind::Refresh => "cairn_rt_",
            CredentialKind::Access => "cairn_at_",
        }
    }
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

/// A user to be made, in the audit's words (by email: there is no id yet).
fn user_subject(email: &str, role: Role, project: Option<&cairn_model::ProjectId>) -> Subject {
    let place = project.map_or("every project".to_owned(), |p| format!("project {p}"));
    let email = email.trim().to_lowercase();
    Subject::new(
        "user",
        &email,
        format!("{email} as {} in {place}", role.as_str()),
    )
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
        let record = Record::on_server(actions::USER_CREATE, user_subject(email, role, project))
            .within(organization, project);
        let work = self.insert_user(email, password, role, organization, project, false);
        self.audited(record, work, |user, subject| subject.with_id(&user.id))
            .await
    }

    /// The first user: admin of the whole default organization. Refused once anyone exists,
    /// also when two instances race to set up.
    pub async fn create_first_admin(&self, email: &str, password: &str) -> Result<User> {
        let scope = self.default_scope().await?;
        let subject = user_subject(email, Role::Admin, None);
        let record =
            Record::on_server(actions::USER_CREATE, subject).within(&scope.organization_id, None);
        let work = self.insert_user(
            email,
            password,
            Role::Admin,
            &scope.organization_id,
            None,
            true,
        );
        self.audited(record, work, |user, subject| subject.with_id(&user.id))
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
        let place = match &grant.project_id {
            Some(project) => format!("project {project}"),
            None => format!("every project of organization {}", grant.organization_id),
        };
        let subject = Subject::new(
            "user",
            &grant.user_id,
            format!("{} in {place}", grant.role.as_str()),
        );
        let record = Record::on_server(actions::USER_GRANT, subject)
            .within(&grant.organization_id, grant.project_id.as_ref());
        let work = async {
            match &grant.project_id {
                Some(project) => drop(self.project_of(&grant.organization_id, project).await?),
                None => drop(self.organization(&grant.organization_id).await?),
            }
            let _writing = self.inner().access_checks.writing();
            self.inner().store.put_grant(grant).await
        };
        self.audited(record, work, |_, subject| subject).await
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

    /// Signs in with a password: a new session secret (for a cookie). From no address in
    /// particular (tests, tools); the console's sign-in page uses [`Services::sign_in_from`].
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<(User, String)> {
        self.sign_in_from(email, password, None).await
    }

    /// Signs in from a client's `address`, recorded in the audit: as the user when it
    /// succeeds, as an anonymous attempt with the email tried when it does not.
    pub async fn sign_in_from(
        &self,
        email: &str,
        password: &str,
        address: Option<String>,
    ) -> Result<(User, String)> {
        let signed_in = self.signing_in(email, password).await;
        let summary = "console session";
        let record = match &signed_in {
            Ok((user, _)) => Record::user(
                user,
                address,
                actions::SIGN_IN,
                Subject::new("user", &user.id, summary),
            ),
            Err(_) => {
                // Only a well-formed address is kept, as the actor and as the subject: what
                // else is typed there (a password put in the wrong box, a megabyte of junk) is
                // nobody's to read, nor worth storing.
                let email = normalize_email(email).ok();
                let subject = Subject::new("user", email.clone().unwrap_or_default(), summary);
                Record::anonymous(email, address, actions::SIGN_IN, subject)
            }
        };
        self.append_audit(record, outcome_of(&signed_in)).await;
        signed_in
    }

    async fn signing_in(&self, email: &str, password: &str) -> Result<(User, String)> {
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
        self.sign_out_from(session_secret, None).await
    }

    /// Ends a console session, recorded in the audit with the client's `address` (a secret
    /// that is no live session ends nothing, and nothing is recorded).
    pub async fn sign_out_from(&self, session_secret: &str, address: Option<String>) -> Result<()> {
        let Some(credential) = self
            .live_credential(session_secret, CredentialKind::Session)
            .await?
        else {
            return Ok(());
        };
        let Some(user) = self.inner().store.user(&credential.user_id).await? else {
            return Ok(());
        };
        let subject = Subject::new("user", &user.id, "console session");
        let record = Record::user(&user, address, actions::SIGN_OUT, subject);
        let work = async {
            let now = self.inner().clock.now();
            self.inner()
                .store
                .revoke_credential(&credential.user_id, &credential.id, now)
                .await
                .map(drop)
        };
        self.audited(record, work, |_, subject| subject).await
    }

    /// The user of a console session.
    pub async fn session_principal(&self, session_secret: &str) -> Result<Principal> {
        let credential = self
            .live_credential(session_secret, CredentialKind::Session)
            .await?
            .ok_or_else(unauthenticated)?;
        self.principal(&credential.user_id).await
    }

    /// Changes a user's password: the current one must be given (checked with the same
    /// bounded hashing as signing in), the new one follows the rules of a new user's and
    /// differs from the current. Every session of the user ends but `keep_session` (the
    /// caller's own, by its secret); API tokens keep working (they are revoked on their own).
    pub async fn change_password(
        &self,
        by: &Principal,
        current_password: &str,
        new_password: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        let subject = Subject::new("user", &by.user.id, "password; other sessions ended");
        let record = Record::by(by, actions::PASSWORD_CHANGE, subject);
        let work =
            self.changing_password(&by.user.id, current_password, new_password, keep_session);
        self.audited(record, work, |_, subject| subject).await
    }

    async fn changing_password(
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
        Ok(Principal::new(user, grants))
    }
}

#[cfg(test)]
mod tests;
