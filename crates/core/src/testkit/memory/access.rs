//! Users, grants and credentials, in memory.

use super::InMemoryStore;
use crate::access::{Credential, CredentialKind};
use crate::error::{Error, Result};
use crate::ports::AccessStore;
use async_trait::async_trait;
use cairn_model::{Grant, TokenId, User, UserId};
use chrono::{DateTime, Utc};

#[async_trait]
impl AccessStore for InMemoryStore {
    async fn count_users(&self) -> Result<u64> {
        Ok(self.state.lock().unwrap().users.len() as u64)
    }

    async fn insert_user(
        &self,
        user: &User,
        password_hash: &str,
        grants: &[Grant],
        only_if_none: bool,
    ) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        if only_if_none && !state.users.is_empty() {
            return Ok(false);
        }
        if state.users.iter().any(|(u, _)| u.email == user.email) {
            return Err(Error::conflict(format!(
                "a user with email {} exists",
                user.email
            )));
        }
        state.users.push((user.clone(), password_hash.to_owned()));
        state.grants.extend_from_slice(grants);
        Ok(true)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>> {
        let state = self.state.lock().unwrap();
        Ok(state.users.iter().find(|(u, _)| u.email == email).cloned())
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .users
            .iter()
            .find(|(u, _)| &u.id == id)
            .map(|(u, _)| u.clone()))
    }

    async fn grants(&self, user: &UserId) -> Result<Vec<Grant>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .grants
            .iter()
            .filter(|g| &g.user_id == user)
            .cloned()
            .collect())
    }

    async fn put_grant(&self, grant: &Grant) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state.grants.retain(|g| {
            !(g.user_id == grant.user_id
                && g.organization_id == grant.organization_id
                && g.project_id == grant.project_id)
        });
        state.grants.push(grant.clone());
        Ok(())
    }

    async fn insert_credential(&self, credential: &Credential) -> Result<()> {
        self.state
            .lock()
            .unwrap()
            .credentials
            .push(credential.clone());
        Ok(())
    }

    async fn credential(&self, hash: &str) -> Result<Option<Credential>> {
        let state = self.state.lock().unwrap();
        Ok(state.credentials.iter().find(|c| c.hash == hash).cloned())
    }

    async fn credentials(&self, user: &UserId, kind: CredentialKind) -> Result<Vec<Credential>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .credentials
            .iter()
            .filter(|c| &c.user_id == user && c.kind == kind)
            .cloned()
            .collect())
    }

    async fn revoke_credential(
        &self,
        user: &UserId,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        if !state
            .credentials
            .iter()
            .any(|c| &c.id == id && &c.user_id == user)
        {
            return Ok(false);
        }
        for credential in state.credentials.iter_mut() {
            let hit = &credential.id == id || credential.parent.as_ref() == Some(id);
            if hit && credential.revoked.is_none() {
                credential.revoked = Some(at);
            }
        }
        Ok(true)
    }

    async fn prune_credentials(&self, before: DateTime<Utc>) -> Result<u64> {
        let mut state = self.state.lock().unwrap();
        let count = state.credentials.len();
        state.credentials.retain(|c| {
            c.kind == CredentialKind::Refresh
                || (c.expires.is_none_or(|e| e > before) && c.revoked.is_none_or(|r| r > before))
        });
        Ok((count - state.credentials.len()) as u64)
    }

    async fn set_password_hash(
        &self,
        user: &UserId,
        password_hash: &str,
        keep: Option<&TokenId>,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        let Some(found) = state.users.iter_mut().find(|(u, _)| &u.id == user) else {
            return Ok(false);
        };
        found.1 = password_hash.to_owned();
        end_sessions(&mut state.credentials, user, keep, at);
        Ok(true)
    }

    async fn revoke_sessions(
        &self,
        user: &UserId,
        keep: Option<&TokenId>,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        let mut state = self.state.lock().unwrap();
        Ok(end_sessions(&mut state.credentials, user, keep, at))
    }

    async fn touch_credential(&self, id: &TokenId, at: DateTime<Utc>) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        for credential in state.credentials.iter_mut().filter(|c| &c.id == id) {
            credential.last_used = Some(at);
        }
        Ok(())
    }
}

/// Revokes a user's live sessions but `keep`; how many.
fn end_sessions(
    credentials: &mut [Credential],
    user: &UserId,
    keep: Option<&TokenId>,
    at: DateTime<Utc>,
) -> u64 {
    let mut ended = 0;
    for credential in credentials.iter_mut().filter(|c| {
        &c.user_id == user
            && c.kind == CredentialKind::Session
            && Some(&c.id) != keep
            && c.revoked.is_none()
            && c.expires.is_none_or(|e| e > at)
    }) {
        credential.revoked = Some(at);
        ended += 1;
    }
    ended
}
