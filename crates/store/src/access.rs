//! Users, grants and credentials ([`AccessStore`]).

use crate::rows::{CredentialRow, GrantRow, UserRow, CREDENTIAL_COLUMNS, USER_COLUMNS};
use crate::{Db, SqlStore, StoreError};
use async_trait::async_trait;
use cairn_core::{
    AccessStore, Credential, CredentialKind, Error as CoreError, Result as CoreResult,
};
use cairn_model::{Grant, TokenId, User, UserId};
use chrono::{DateTime, Utc};

#[async_trait]
impl AccessStore for SqlStore {
    async fn count_users(&self) -> CoreResult<u64> {
        let n: i64 = on_pool!(&self.pool, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM users"
        )
        .fetch_one(p)
        .await
        .db()?);
        Ok(u64::try_from(n).unwrap_or_default())
    }

    async fn insert_user(
        &self,
        user: &User,
        password_hash: &str,
        grants: &[Grant],
        only_if_none: bool,
    ) -> CoreResult<bool> {
        // One statement decides "first user" and inserts, so two racing setups cannot both win.
        let sql = if only_if_none {
            "INSERT INTO users (id, email, password_hash, created)
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM users)"
        } else {
            "INSERT INTO users (id, email, password_hash, created) VALUES ($1, $2, $3, $4)"
        };
        let inserted = on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.db()?;
            let inserted = sqlx::query(sql)
                .bind(user.id.as_str())
                .bind(&user.email)
                .bind(password_hash)
                .bind(user.created)
                .execute(&mut *tx)
                .await
                .map_err(|error| email_taken(error, &user.email))?
                .rows_affected();
            if inserted == 1 {
                for grant in grants {
                    put_grant_query(grant).execute(&mut *tx).await.db()?;
                }
                tx.commit().await.db()?;
            }
            inserted == 1
        });
        Ok(inserted)
    }

    async fn user_by_email(&self, email: &str) -> CoreResult<Option<(User, String)>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let row: Option<UserRow> = self.fetch_optional(&sql, &[email]).await?;
        row.map(UserRow::into_model).transpose()
    }

    async fn user(&self, id: &UserId) -> CoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = self.fetch_optional(&sql, &[id.as_str()]).await?;
        Ok(row
            .map(UserRow::into_model)
            .transpose()?
            .map(|(user, _)| user))
    }

    async fn grants(&self, user: &UserId) -> CoreResult<Vec<Grant>> {
        let rows: Vec<GrantRow> = self
            .fetch_all(
                "SELECT user_id, organization_id, project_id, role FROM grants WHERE user_id = $1",
                &[user.as_str()],
            )
            .await?;
        rows.into_iter().map(GrantRow::into_model).collect()
    }

    async fn put_grant(&self, grant: &Grant) -> CoreResult<()> {
        on_pool!(&self.pool, |p| put_grant_query(grant)
            .execute(p)
            .await
            .db()?
            .rows_affected());
        Ok(())
    }

    async fn insert_credential(&self, c: &Credential) -> CoreResult<()> {
        let sql = format!(
            "INSERT INTO credentials ({CREDENTIAL_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        on_pool!(&self.pool, |p| sqlx::query(&sql)
            .bind(c.id.as_str())
            .bind(c.kind.as_str())
            .bind(c.user_id.as_str())
            .bind(&c.hash)
            .bind(&c.description)
            .bind(c.parent.as_ref().map(|p| p.as_str().to_owned()))
            .bind(c.created)
            .bind(c.expires)
            .bind(c.last_used)
            .bind(c.revoked)
            .execute(p)
            .await
            .db()?
            .rows_affected());
        Ok(())
    }

    async fn credential(&self, hash: &str) -> CoreResult<Option<Credential>> {
        let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE hash = $1");
        let row: Option<CredentialRow> = self.fetch_optional(&sql, &[hash]).await?;
        row.map(CredentialRow::into_model).transpose()
    }

    async fn credentials(
        &self,
        user: &UserId,
        kind: CredentialKind,
    ) -> CoreResult<Vec<Credential>> {
        let sql = format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM credentials
             WHERE user_id = $1 AND kind = $2 ORDER BY created, id"
        );
        let rows: Vec<CredentialRow> = self
            .fetch_all(&sql, &[user.as_str(), kind.as_str()])
            .await?;
        rows.into_iter().map(CredentialRow::into_model).collect()
    }

    async fn revoke_credential(
        &self,
        user: &UserId,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> CoreResult<bool> {
        let revoked = on_pool!(&self.pool, |p| sqlx::query(
            "UPDATE credentials SET revoked = $3
             WHERE revoked IS NULL AND user_id = $1 AND (id = $2 OR parent_id = $2)"
        )
        .bind(user.as_str())
        .bind(id.as_str())
        .bind(at)
        .execute(p)
        .await
        .db()?
        .rows_affected());
        if revoked > 0 {
            return Ok(true);
        }
        // Already revoked is still "found"; another user's id is not.
        let exists: Option<CredentialRow> = self
            .fetch_optional(
                &format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE user_id = $1 AND id = $2"
                ),
                &[user.as_str(), id.as_str()],
            )
            .await?;
        Ok(exists.is_some())
    }

    async fn prune_credentials(&self, before: DateTime<Utc>) -> CoreResult<u64> {
        let pruned = on_pool!(&self.pool, |p| {
            sqlx::query(
            "DELETE FROM credentials WHERE kind <> 'refresh'
                 AND ((expires IS NOT NULL AND expires <= $1) OR (revoked IS NOT NULL AND revoked <= $1))"
        )
        .bind(before)
        .execute(p)
        .await
        .db()?
        .rows_affected()
        });
        Ok(pruned)
    }

    async fn set_password_hash(
        &self,
        user: &UserId,
        password_hash: &str,
        keep: Option<&TokenId>,
        at: DateTime<Utc>,
    ) -> CoreResult<bool> {
        let keep = keep.map_or("", |id| id.as_str());
        let changed = on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.db()?;
            let changed = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                .bind(user.as_str())
                .bind(password_hash)
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected()
                == 1;
            if changed {
                sqlx::query(END_SESSIONS)
                    .bind(user.as_str())
                    .bind(keep)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                tx.commit().await.db()?;
            }
            changed
        });
        Ok(changed)
    }

    async fn revoke_sessions(
        &self,
        user: &UserId,
        keep: Option<&TokenId>,
        at: DateTime<Utc>,
    ) -> CoreResult<u64> {
        let keep = keep.map_or("", |id| id.as_str());
        let ended = on_pool!(&self.pool, |p| sqlx::query(END_SESSIONS)
            .bind(user.as_str())
            .bind(keep)
            .bind(at)
            .execute(p)
            .await
            .db()?
            .rows_affected());
        Ok(ended)
    }

    async fn touch_credential(&self, id: &TokenId, at: DateTime<Utc>) -> CoreResult<()> {
        on_pool!(&self.pool, |p| sqlx::query(
            "UPDATE credentials SET last_used = $2 WHERE id = $1"
        )
        .bind(id.as_str())
        .bind(at)
        .execute(p)
        .await
        .db()?
        .rows_affected());
        Ok(())
    }
}

/// Gives a user a role at a place, replacing the one they had there.
pub(crate) fn put_grant_query<'q, DB: sqlx::Database>(
    grant: &'q Grant,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(
        "INSERT INTO grants (user_id, organization_id, project_id, role) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, organization_id, project_id) DO UPDATE SET role = excluded.role",
    )
    .bind(grant.user_id.as_str())
    .bind(grant.organization_id.as_str())
    .bind(grant.project_id.as_ref().map_or("", |p| p.as_str()))
    .bind(grant.role.as_str())
}

/// An insert that broke the users' unique email is a conflict the user can act on.
fn email_taken(error: sqlx::Error, email: &str) -> CoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            CoreError::conflict(format!("a user with email {email} exists"))
        }
        _ => StoreError::from(error).into(),
    }
}

/// Revokes (at `$3`) the live console sessions of user `$1` but the one with id `$2` (`''`:
/// none kept).
const END_SESSIONS: &str = "UPDATE credentials SET revoked = $3
     WHERE user_id = $1 AND kind = 'session' AND id <> $2 AND revoked IS NULL
       AND (expires IS NULL OR expires > $3)";
