//! Users, what they may do where (grants), and the credentials they sign in with.

use crate::error::Result;
use async_trait::async_trait;
use cairn_model::{Grant, TokenId, User, UserId};
use chrono::{DateTime, Utc};

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

/// Users, grants, passwords, sessions and tokens.
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// How many users there are.
    async fn count_users(&self) -> Result<u64>;
    /// Inserts a user with their password hash and grants, in one transaction. With
    /// `only_if_none` it inserts nothing and answers `false` when any user exists (so two
    /// instances cannot both set up a first admin). An email already used is a conflict.
    async fn insert_user(
        &self,
        user: &User,
        password_hash: &str,
        grants: &[Grant],
        only_if_none: bool,
    ) -> Result<bool>;
    /// A user and their password hash, by (normalized) email.
    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>>;
    async fn user(&self, id: &UserId) -> Result<Option<User>>;
    /// Every grant a user holds.
    async fn grants(&self, user: &UserId) -> Result<Vec<Grant>>;
    /// Gives a user a role at a place (an organization, or one project), replacing theirs.
    async fn put_grant(&self, grant: &Grant) -> Result<()>;
    async fn insert_credential(&self, credential: &Credential) -> Result<()>;
    /// A credential by the hash of its secret.
    async fn credential(&self, hash: &str) -> Result<Option<Credential>>;
    /// A user's credentials of a kind.
    async fn credentials(&self, user: &UserId, kind: CredentialKind) -> Result<Vec<Credential>>;
    /// Revokes a user's credential and those made from it; `false` when the user has none
    /// with that id.
    async fn revoke_credential(
        &self,
        user: &UserId,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> Result<bool>;
    /// Deletes sessions and access tokens that expired or were revoked before `before`
    /// (API tokens stay listed, revoked ones marked); how many went.
    async fn prune_credentials(&self, before: DateTime<Utc>) -> Result<u64>;
    /// Replaces a user's password hash and ends their live console sessions but `keep`, in
    /// one transaction; `false` when there is no such user.
    async fn set_password_hash(
        &self,
        user: &UserId,
        password_hash: &str,
        keep: Option<&TokenId>,
        at: DateTime<Utc>,
    ) -> Result<bool>;
    /// Ends a user's live console sessions but `keep` (revoked at `at`); how many ended.
    async fn revoke_sessions(
        &self,
        user: &UserId,
        keep: Option<&TokenId>,
        at: DateTime<Utc>,
    ) -> Result<u64>;
    /// Records when a credential was last used.
    async fn touch_credential(&self, id: &TokenId, at: DateTime<Utc>) -> Result<()>;
}
