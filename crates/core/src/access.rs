//! Authentication and authorization: users with argon2id passwords, console sessions, API
//! refresh tokens exchanged for short-lived access tokens, and roles per project.
//!
//! Every secret (session, refresh or access token) is 32 random bytes shown once; the store
//! keeps only its BLAKE3 hash, so a leaked database holds no usable credential. A refresh
//! token acts as the user who made it, with that user's current roles.

use crate::error::{Error, Result};
use crate::services::{Scope, Services};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use cairn_model::{
    role_in, ApiToken, Grant, OrganizationId, Permission, Role, TokenId, User, UserId,
};
use chrono::{DateTime, Duration, Utc};

/// How long a console session lasts after signing in.
pub const SESSION_LIFETIME: Duration = Duration::days(7);
/// How long an access token from `POST /oauth/token` is good for (its `expires_in`).
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::hours(1);
/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

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
        }
    }
}

/// Who is asking, and the roles they have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: User,
    pub grants: Vec<Grant>,
}

impl Principal {
    /// The strongest role in an organization's every project (an organization-wide grant).
    fn organization_role(&self, organization: &OrganizationId) -> Option<Role> {
        self.grants
            .iter()
            .filter(|g| g.project_id.is_none() && &g.organization_id == organization)
            .map(|g| g.role)
            .max()
    }

    /// Whether any grant touches this organization (it is then visible).
    pub fn sees_organization(&self, organization: &OrganizationId) -> bool {
        self.grants
            .iter()
            .any(|g| &g.organization_id == organization)
    }

    /// The role in a project, if any.
    pub fn role(&self, scope: &Scope) -> Option<Role> {
        role_in(&self.grants, &scope.organization_id, &scope.project_id)
    }
}

/// Allowed, or why not: a project the principal has no role in is "not found" (its existence
/// is not revealed); a role too weak is forbidden, naming the role needed.
pub fn check(principal: &Principal, scope: &Scope, need: Permission) -> Result<()> {
    match principal.role(scope) {
        None => Err(Error::not_found("project", &scope.project_id)),
        Some(role) if role.allows(need) => Ok(()),
        Some(role) => Err(Error::Forbidden(format!(
            "your role in project {} is {}; this needs {}",
            scope.project_id,
            role.as_str(),
            needed_role(need).as_str()
        ))),
    }
}

/// Organization-wide admin: needed to create or delete its projects and to change it.
pub fn check_organization_admin(
    principal: &Principal,
    organization: &OrganizationId,
) -> Result<()> {
    match principal.organization_role(organization) {
        Some(Role::Admin) => Ok(()),
        _ if principal.sees_organization(organization) => Err(Error::Forbidden(format!(
            "this needs the admin role in all of organization {organization}"
        ))),
        _ => Err(Error::not_found("organization", organization)),
    }
}

/// New organizations are for admins of a whole organization: an organization holds clusters
/// that run on this machine, so making one is not for every signed-in user.
pub fn check_can_create_organizations(principal: &Principal) -> Result<()> {
    let site_admin = principal
        .grants
        .iter()
        .any(|g| g.project_id.is_none() && g.role == Role::Admin);
    if site_admin {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "creating organizations needs the admin role in all of an organization".into(),
        ))
    }
}

/// Restoring a backup of another project reads that project: the caller needs a role there.
pub fn check_restore_source(
    principal: &Principal,
    scope: &Scope,
    request: &cairn_model::CreateClusterRequest,
) -> Result<()> {
    match &request.source_backup_project_id {
        Some(project) if project != &scope.project_id => {
            let source = Scope {
                organization_id: scope.organization_id.clone(),
                project_id: project.clone(),
            };
            check(principal, &source, Permission::Read)
        }
        _ => Ok(()),
    }
}

fn needed_role(need: Permission) -> Role {
    Role::ALL
        .into_iter()
        .find(|role| role.allows(need))
        .expect("admin allows everything")
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
/// blocking pool, two at a time, so a flood of sign-ins cannot stall pages and API calls.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

async fn off_the_async_threads<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let _permit = HASHING.acquire().await.map_err(Error::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(Error::internal)
}

async fn hash_password(password: &str) -> Result<String> {
    let password = password.to_owned();
    off_the_async_threads(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(Error::internal)
    })
    .await?
}

async fn verify_password(password: &str, stored: &str) -> Result<bool> {
    let (password, stored) = (password.to_owned(), stored.to_owned());
    off_the_async_threads(move || password_matches(&password, &stored)).await
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
        Err(crate::backups::invalid(
            "email",
            "an email address like ops@example.com is required",
        ))
    }
}

fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(crate::backups::invalid(
            "password",
            format!("at least {MIN_PASSWORD_LEN} characters"),
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
            self.get_project(organization, project).await?;
        } else {
            self.get_organization(organization).await?;
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
            return Err(Error::Conflict(
                "Cairn is already set up: sign in instead".into(),
            ));
        }
        Ok(user)
    }

    /// Gives a user a role (replacing the one they had at that place).
    pub async fn grant(&self, grant: &Grant) -> Result<()> {
        self.inner().store.put_grant(grant).await
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
    pub async fn access_principal(&self, access_token: &str) -> Result<Principal> {
        let credential = self
            .live_credential(access_token, CredentialKind::Access)
            .await?
            .ok_or_else(unauthenticated)?;
        self.principal(&credential.user_id).await
    }

    /// A new API (refresh) token for a user: its listing, and the secret, shown this once.
    pub async fn create_api_token(
        &self,
        user: &UserId,
        description: &str,
    ) -> Result<(ApiToken, String)> {
        let description = description.trim();
        if description.is_empty() {
            return Err(crate::backups::invalid(
                "description",
                "say what the token is for, e.g. \"CI backups\"",
            ));
        }
        let (secret, credential) = self
            .issue(user, CredentialKind::Refresh, description, None, None)
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
        if self.inner().store.revoke_credential(user, id, now).await? {
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

    /// `grant_type=refresh_token`: a new access token for a live refresh token.
    pub async fn exchange_refresh_token(&self, refresh_token: &str) -> Result<AccessGrant> {
        let refresh = self
            .live_credential(refresh_token, CredentialKind::Refresh)
            .await?
            .ok_or_else(|| {
                Error::Unauthenticated("the refresh token is unknown or revoked".into())
            })?;
        let now = self.inner().clock.now();
        self.inner()
            .store
            .touch_credential(&refresh.id, now)
            .await?;
        let (access_token, access) = self
            .issue(
                &refresh.user_id,
                CredentialKind::Access,
                &refresh.description,
                Some(refresh.id.clone()),
                Some(now + ACCESS_TOKEN_LIFETIME),
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
            expires_in: ACCESS_TOKEN_LIFETIME.num_seconds(),
        })
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

/// An argon2id hash of a password nobody has, checked when the email is unknown.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2HUxSmFwVB3mEAbmAzT2/U9LSvjpUyf0NXL4Qn4BnOY";

#[cfg(test)]
mod tests;
