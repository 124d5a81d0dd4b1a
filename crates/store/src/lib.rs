//! The [`Store`] port over a SQL database, chosen by URL at run time:
//! `sqlite://…` (the embedded default: one file, WAL) or `postgres://…` (scale-out).
//!
//! Both databases run the same SQL text: each query body is written once inside
//! [`on_pool!`], which expands it for the SQLite pool and for the PostgreSQL pool, so each
//! side is type-checked with its own driver's native types (no lowest-common-denominator
//! `Any` driver). Schema migrations differ per database and live in `migrations/<db>/`.

mod rows;

use async_trait::async_trait;
use cairn_core::{Error as CoreError, Result as CoreResult, SeedPlan, Store};
use cairn_model::{Cluster, Network, Organization, OrganizationId, Project, ProjectId};
use rows::{ClusterRow, NetworkRow, OrganizationRow, ProjectRow};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::str::FromStr;
use std::time::Duration;

/// Why the store could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL '{0}' is not supported: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot open database {url}: {source}")]
    Open {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot migrate database {url}: {source}")]
    Migrate {
        url: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("stored row is corrupt: {0}")]
    Corrupt(String),
}

impl From<StoreError> for CoreError {
    fn from(error: StoreError) -> Self {
        CoreError::internal(error)
    }
}

enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same body against whichever pool is open, binding `$p` to it.
macro_rules! on_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            Pool::Sqlite($p) => $body,
            Pool::Postgres($p) => $body,
        }
    };
}

pub struct SqlStore {
    pool: Pool,
}

impl SqlStore {
    /// Opens (creating the SQLite file if needed) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let shown = redact(url);
        let open_error = |source| StoreError::Open {
            url: shown.clone(),
            source,
        };
        let migrate_error = |source| StoreError::Migrate {
            url: shown.clone(),
            source,
        };
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(open_error)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(open_error)?;
            sqlx::migrate!("./migrations/sqlite")
                .run(&pool)
                .await
                .map_err(migrate_error)?;
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .map_err(open_error)?;
            sqlx::migrate!("./migrations/postgres")
                .run(&pool)
                .await
                .map_err(migrate_error)?;
            Pool::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl(shown));
        };
        Ok(Self { pool })
    }

    /// `sqlite` or `postgres`, for logs and the about page.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }
}

/// Hides the password of a URL so it can be logged or shown in an error.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn organizations(&self) -> CoreResult<Vec<Organization>> {
        let rows: Vec<OrganizationRow> = on_pool!(&self.pool, |p| sqlx::query_as(
            "SELECT id, name, created FROM organizations ORDER BY created, id"
        )
        .fetch_all(p)
        .await
        .map_err(StoreError::from)?);
        rows.into_iter().map(OrganizationRow::into_model).collect()
    }

    async fn projects(&self, organization: &OrganizationId) -> CoreResult<Vec<Project>> {
        let rows: Vec<ProjectRow> = on_pool!(&self.pool, |p| sqlx::query_as(
            "SELECT id, organization_id, name, created FROM projects
             WHERE organization_id = $1 ORDER BY created, id"
        )
        .bind(organization.as_str())
        .fetch_all(p)
        .await
        .map_err(StoreError::from)?);
        rows.into_iter().map(ProjectRow::into_model).collect()
    }

    async fn networks(&self, project: &ProjectId) -> CoreResult<Vec<Network>> {
        let rows: Vec<NetworkRow> = on_pool!(&self.pool, |p| sqlx::query_as(
            "SELECT id, project_id, provider, region, description, public_access, cidr_block,
                    status, created
             FROM networks WHERE project_id = $1 AND status <> 'deleted' ORDER BY created, id"
        )
        .bind(project.as_str())
        .fetch_all(p)
        .await
        .map_err(StoreError::from)?);
        rows.into_iter().map(NetworkRow::into_model).collect()
    }

    async fn clusters(&self, project: &ProjectId) -> CoreResult<Vec<Cluster>> {
        let rows: Vec<ClusterRow> = on_pool!(&self.pool, |p| sqlx::query_as(
            "SELECT id, organization_id, project_id, network_id, description, provider, region,
                    topology, instance_type, disk_size_gb, disk_type, server_version,
                    server_version_tag, projection_level, status, health, protected, created,
                    source_backup_id, addresses
             FROM clusters WHERE project_id = $1 AND status <> 'deleted' ORDER BY created, id"
        )
        .bind(project.as_str())
        .fetch_all(p)
        .await
        .map_err(StoreError::from)?);
        rows.into_iter().map(ClusterRow::into_model).collect()
    }

    async fn apply_seed(&self, plan: &SeedPlan) -> CoreResult<()> {
        on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.map_err(StoreError::from)?;
            if let Some(o) = &plan.organization {
                sqlx::query("INSERT INTO organizations (id, name, created) VALUES ($1, $2, $3)")
                    .bind(o.id.as_str())
                    .bind(&o.name)
                    .bind(o.created)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from)?;
            }
            if let Some(pr) = &plan.project {
                sqlx::query(
                    "INSERT INTO projects (id, organization_id, name, created)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(pr.id.as_str())
                .bind(pr.organization_id.as_str())
                .bind(&pr.name)
                .bind(pr.created)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            }
            for n in &plan.networks {
                sqlx::query(
                    "INSERT INTO networks (id, project_id, provider, region, description,
                                           public_access, cidr_block, status, created)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(n.id.as_str())
                .bind(n.project_id.as_str())
                .bind(&n.provider)
                .bind(&n.region)
                .bind(&n.description)
                .bind(n.public_access)
                .bind(n.cidr_block.as_deref())
                .bind(n.status.as_str())
                .bind(n.created)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            }
            tx.commit().await.map_err(StoreError::from)?;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn a_database_password_never_appears_in_what_is_shown() {
        assert_eq!(
            redact("postgres://cairn:s3cret@db.internal:5432/cairn"),
            "postgres://cairn:***@db.internal:5432/cairn"
        );
        assert_eq!(
            redact("sqlite:///var/lib/cairn/cairn.db"),
            "sqlite:///var/lib/cairn/cairn.db"
        );
    }
}
