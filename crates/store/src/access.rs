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
        self.count("SELECT COUNT(*) FROM users", &[]).await
    }

    async fn insert_user(
        &self,
        user: &User,
        password_hash: &str,
        grants: &[Grant],
        only_if_none: bool,
    ) -> CoreResult<bool> {
        // One statement decides "first user" and inserts. SQLite runs writers one at a time, so
        // that is enough there; PostgreSQL's READ COMMITTED lets two racing transactions both
        // see no users, so there the first-user insert first takes the table's write lock.
        let sql = if only_if_none {
            "INSERT INTO users (id, email, password_hash, created)
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM users)"
        } else {
            "INSERT INTO users (id, email, password_hash, created) VALUES ($1, $2, $3, $4)"
        };
        let inserted = on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.db()?;
            if only_if_none && self.pool.is_postgres() {
                sqlx::query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await
                    .db()?;
            }
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
        self.one::<UserRow, _>(&sql, &[email]).await
    }

    async fn user(&self, id: &UserId) -> CoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let user = self.one::<UserRow, _>(&sql, &[id.as_str()]).await?;
        Ok(user.map(|(user, _)| user))
    }

    async fn grants(&self, user: &UserId) -> CoreResult<Vec<Grant>> {
        self.all::<GrantRow, _>(
            "SELECT user_id, organization_id, project_id, role FROM grants WHERE user_id = $1",
            &[user.as_str()],
        )
        .await
    }

    async fn put_grant(&self, grant: &Grant) -> CoreResult<()> {
        run!(self, put_grant_query(grant));
        Ok(())
    }

    async fn insert_credential(&self, c: &Credential) -> CoreResult<()> {
        let sql = format!(
            "INSERT INTO credentials ({CREDENTIAL_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        execute!(
            self,
            &sql,
            c.id.as_str(),
            c.kind.as_str(),
            c.user_id.as_str(),
            &c.hash,
            &c.description,
            c.parent.as_ref().map(|p| p.as_str().to_owned()),
            c.created,
            c.expires,
            c.last_used,
            c.revoked,
        );
        Ok(())
    }

    async fn credential(&self, hash: &str) -> CoreResult<Option<Credential>> {
        let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE hash = $1");
        self.one::<CredentialRow, _>(&sql, &[hash]).await
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
        self.all::<CredentialRow, _>(&sql, &[user.as_str(), kind.as_str()])
            .await
    }

    async fn revoke_credential(
        &self,
        user: &UserId,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> CoreResult<bool> {
        let revoked = execute!(
            self,
            "UPDATE credentials SET revoked = $3
             WHERE revoked IS NULL AND user_id = $1 AND (id = $2 OR parent_id = $2)",
            user.as_str(),
            id.as_str(),
            at,
        );
        if revoked > 0 {
            return Ok(true);
        }
        // Already revoked is still "found"; another user's id is not.
        let sql =
            format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE user_id = $1 AND id = $2");
        let exists: Vec<CredentialRow> =
            self.fetch_all(&sql, &[user.as_str(), id.as_str()]).await?;
        Ok(!exists.is_empty())
    }

    async fn prune_credentials(&self, before: DateTime<Utc>) -> CoreResult<u64> {
        Ok(execute!(
            self,
            "DELETE FROM credentials WHERE kind <> 'refresh'
                 AND ((expires IS NOT NULL AND expires <= $1) OR (revoked IS NOT NULL AND revoked <= $1))",
            before,
        ))
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
        Ok(execute!(self, END_SESSIONS, user.as_str(), keep, at))
    }

    async fn touch_credential(&self, id: &TokenId, at: DateTime<Utc>) -> CoreResult<()> {
        let sql = "UPDATE credentials SET last_used = $2 WHERE id = $1";
        execute!(self, sql, id.as_str(), at);
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
