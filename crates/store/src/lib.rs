//! The [`Store`] port over a SQL database, chosen by URL at run time:
//! `sqlite://…` (the embedded default: one file, WAL) or `postgres://…` (scale-out).
//!
//! Both databases run the same SQL text: each query body is written once inside
//! [`on_pool!`], which expands it for the SQLite pool and for the PostgreSQL pool, so each
//! side is type-checked with its own driver's native types (no lowest-common-denominator
//! `Any` driver). Schema migrations differ per database and live in `migrations/<db>/`.

mod rows;

use async_trait::async_trait;
use cairn_core::{
    ClusterLock, ClusterPatch, Credential, CredentialKind, Error as CoreError, LockOutcome,
    Renamable, Result as CoreResult, SeedPlan, Store,
};
use cairn_model::{
    Backup, BackupId, BackupStatus, Cluster, ClusterId, ClusterStatus, Delivery, Event, EventId,
    Grant, HistoryItem, Integration, IntegrationId, Job, JobId, Network, NetworkId, Organization,
    OrganizationId, Project, ProjectId, TokenId, User, UserId,
};
use chrono::{DateTime, Utc};
use rows::{
    wire_text, BackupRow, ClusterRow, CredentialRow, DeliveryRow, EventRow, GrantRow, HistoryRow,
    IntegrationRow, JobRow, LastBackupRow, LastSuccessRow, LockRow, NetworkRow, OrganizationRow,
    ProjectRow, ScheduledJobRow, UserRow, BACKUP_COLUMNS, CLUSTER_COLUMNS, CREDENTIAL_COLUMNS,
    DELIVERY_COLUMNS, EVENT_COLUMNS, HISTORY_COLUMNS, INTEGRATION_COLUMNS, JOB_COLUMNS,
    LOCK_COLUMNS, USER_COLUMNS,
};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
};
use sqlx::FromRow;
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

/// Binds an event's columns, in `EVENT_COLUMNS` order, to an insert.
macro_rules! bind_event {
    ($query:expr, $e:expr) => {
        $query
            .bind($e.id.as_str())
            .bind($e.organization_id.as_str())
            .bind($e.project_id.as_str())
            .bind(wire_text(&$e.kind))
            .bind(&$e.category)
            .bind(&$e.subject)
            .bind(&$e.message)
            .bind(&$e.resource_id)
            .bind($e.status.as_ref().map(wire_text))
            .bind($e.created)
            .bind($e.closed)
    };
}

/// Binds a delivery's columns, in `DELIVERY_COLUMNS` order, to an insert.
macro_rules! bind_delivery {
    ($query:expr, $d:expr) => {
        $query
            .bind($d.id.as_str())
            .bind($d.integration_id.as_str())
            .bind($d.event_id.as_str())
            .bind(&$d.summary)
            .bind($d.announces.as_ref().map(wire_text))
            .bind(wire_text(&$d.status))
            .bind(i64::from($d.attempts))
            .bind($d.next_attempt)
            .bind($d.last_error.as_deref())
            .bind($d.created)
            .bind($d.delivered)
    };
}

/// Binds a history item's columns, in `HISTORY_COLUMNS` order, to an insert.
macro_rules! bind_history {
    ($query:expr, $h:expr) => {
        $query
            .bind($h.id.as_str())
            .bind($h.job_id.as_str())
            .bind($h.organization_id.as_str())
            .bind($h.project_id.as_str())
            .bind(wire_text(&$h.status))
            .bind(&$h.details)
            .bind($h.linked_resource.as_ref().map(|id| id.as_str()))
            .bind($h.start_time)
            .bind($h.end_time)
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

    /// Runs a read whose parameters are all text (ids, statuses) and decodes every row.
    async fn fetch_all<R>(&self, sql: &str, binds: &[&str]) -> Result<Vec<R>, StoreError>
    where
        R: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow>,
    {
        Ok(on_pool!(&self.pool, |p| {
            let mut query = sqlx::query_as::<_, R>(sql);
            for value in binds {
                query = query.bind(*value);
            }
            query.fetch_all(p).await?
        }))
    }

    /// Like [`SqlStore::fetch_all`], for at most one row.
    async fn fetch_optional<R>(&self, sql: &str, binds: &[&str]) -> Result<Option<R>, StoreError>
    where
        R: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow>,
    {
        Ok(on_pool!(&self.pool, |p| {
            let mut query = sqlx::query_as::<_, R>(sql);
            for value in binds {
                query = query.bind(*value);
            }
            query.fetch_optional(p).await?
        }))
    }

    /// `sqlite` or `postgres`, for logs and the about page.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }
}

/// Sizes are u64 in the model and BIGINT in the databases; beyond i64 is not a real size.
fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// An update that matched no row means the resource is not there.
fn found(rows: u64, what: &'static str, id: &str) -> CoreResult<()> {
    if rows == 0 {
        return Err(CoreError::NotFound {
            what,
            id: id.to_owned(),
        });
    }
    Ok(())
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
        let rows: Vec<OrganizationRow> = self
            .fetch_all("SELECT id, name, created FROM organizations WHERE NOT deleted ORDER BY created, id", &[])
            .await?;
        rows.into_iter().map(OrganizationRow::into_model).collect()
    }

    async fn insert_organization(&self, o: &Organization, grants: &[Grant]) -> CoreResult<()> {
        on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.map_err(StoreError::from)?;
            sqlx::query("INSERT INTO organizations (id, name, created) VALUES ($1, $2, $3)")
                .bind(o.id.as_str())
                .bind(&o.name)
                .bind(o.created)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            for grant in grants {
                put_grant_query(grant)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from)?;
            }
            tx.commit().await.map_err(StoreError::from)?;
        });
        Ok(())
    }

    async fn delete_organization(&self, id: &OrganizationId) -> CoreResult<()> {
        let updated = on_pool!(&self.pool, |p| sqlx::query(
            "UPDATE organizations SET deleted = TRUE WHERE id = $1"
        )
        .bind(id.as_str())
        .execute(p)
        .await
        .map_err(StoreError::from)?
        .rows_affected());
        found(updated, "organization", id.as_str())
    }

    async fn delete_project(&self, id: &ProjectId) -> CoreResult<()> {
        let updated = on_pool!(&self.pool, |p| sqlx::query(
            "UPDATE projects SET deleted = TRUE WHERE id = $1"
        )
        .bind(id.as_str())
        .execute(p)
        .await
        .map_err(StoreError::from)?
        .rows_affected());
        found(updated, "project", id.as_str())
    }

    async fn projects(&self, organization: &OrganizationId) -> CoreResult<Vec<Project>> {
        let rows: Vec<ProjectRow> = self
            .fetch_all(
                "SELECT id, organization_id, name, created FROM projects
             WHERE organization_id = $1 AND NOT deleted ORDER BY created, id",
                &[organization.as_str()],
            )
            .await?;
        rows.into_iter().map(ProjectRow::into_model).collect()
    }

    async fn networks(&self, project: &ProjectId) -> CoreResult<Vec<Network>> {
        let rows: Vec<NetworkRow> = self
            .fetch_all(
                "SELECT id, project_id, provider, region, description, public_access, cidr_block,
                    status, created
             FROM networks WHERE project_id = $1 AND status <> 'deleted' ORDER BY created, id",
                &[project.as_str()],
            )
            .await?;
        rows.into_iter().map(NetworkRow::into_model).collect()
    }

    async fn clusters(&self, project: &ProjectId) -> CoreResult<Vec<Cluster>> {
        let sql = format!(
            "SELECT {CLUSTER_COLUMNS} FROM clusters
             WHERE project_id = $1 AND status <> 'deleted' ORDER BY created, id"
        );
        let rows: Vec<ClusterRow> = self.fetch_all(&sql, &[project.as_str()]).await?;
        rows.into_iter().map(ClusterRow::into_model).collect()
    }

    async fn cluster(&self, project: &ProjectId, id: &ClusterId) -> CoreResult<Option<Cluster>> {
        let sql =
            format!("SELECT {CLUSTER_COLUMNS} FROM clusters WHERE project_id = $1 AND id = $2");
        let row: Option<ClusterRow> = self
            .fetch_optional(&sql, &[project.as_str(), id.as_str()])
            .await?;
        row.map(ClusterRow::into_model).transpose()
    }

    async fn insert_cluster(&self, c: &Cluster) -> CoreResult<()> {
        let sql = format!(
            "INSERT INTO clusters ({CLUSTER_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19, $20)"
        );
        let addresses = serde_json::to_string(&c.addresses).map_err(CoreError::internal)?;
        on_pool!(&self.pool, |p| sqlx::query(&sql)
            .bind(c.id.as_str())
            .bind(c.organization_id.as_str())
            .bind(c.project_id.as_str())
            .bind(c.network_id.as_str())
            .bind(&c.description)
            .bind(&c.provider)
            .bind(&c.region)
            .bind(wire_text(&c.topology))
            .bind(wire_text(&c.instance_type))
            .bind(i64::from(c.disk_size_gb))
            .bind(&c.disk_type)
            .bind(&c.server_version)
            .bind(&c.server_version_tag)
            .bind(wire_text(&c.projection_level))
            .bind(c.status.as_str())
            .bind(c.health.as_str())
            .bind(c.protected)
            .bind(c.created)
            .bind(c.source_backup_id.as_ref().map(|id| id.as_str()))
            .bind(&addresses)
            .execute(p)
            .await
            .map_err(StoreError::from)?
            .rows_affected());
        Ok(())
    }

    async fn patch_cluster(&self, id: &ClusterId, patch: &ClusterPatch) -> CoreResult<bool> {
        let addresses = patch
            .addresses
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(CoreError::internal)?;
        let (version, tag) = match &patch.server_version {
            Some((version, tag)) => (Some(version.as_str()), Some(tag.as_str())),
            None => (None, None),
        };
        let updated = on_pool!(&self.pool, |p| sqlx::query(
            "UPDATE clusters SET status = COALESCE($2, status), health = COALESCE($3, health),
                    addresses = COALESCE($4, addresses), disk_size_gb = COALESCE($5, disk_size_gb),
                    instance_type = COALESCE($6, instance_type),
                    server_version = COALESCE($7, server_version),
                    server_version_tag = COALESCE($8, server_version_tag),
                    description = COALESCE($9, description), protected = COALESCE($10, protected)
             WHERE id = $1"
        )
        .bind(id.as_str())
        .bind(patch.status.map(|s| s.as_str()))
        .bind(patch.health.map(|h| h.as_str()))
        .bind(addresses.as_deref())
        .bind(patch.disk_size_gb.map(i64::from))
        .bind(patch.instance_type.as_ref().map(wire_text))
        .bind(version)
        .bind(tag)
        .bind(patch.description.as_deref())
        .bind(patch.protected)
        .execute(p)
        .await
        .map_err(StoreError::from)?
        .rows_affected());
        Ok(updated == 1)
    }

    async fn insert_project(&self, pr: &Project) -> CoreResult<()> {
        on_pool!(&self.pool, |p| sqlx::query(
            "INSERT INTO projects (id, organization_id, name, created) VALUES ($1, $2, $3, $4)"
        )
        .bind(pr.id.as_str())
        .bind(pr.organization_id.as_str())
        .bind(&pr.name)
        .bind(pr.created)
        .execute(p)
        .await
        .map_err(StoreError::from)?
        .rows_affected());
        Ok(())
    }

    async fn network(&self, project: &ProjectId, id: &NetworkId) -> CoreResult<Option<Network>> {
        let row: Option<NetworkRow> = self
            .fetch_optional(
                "SELECT id, project_id, provider, region, description, public_access, cidr_block,
                    status, created
             FROM networks WHERE project_id = $1 AND id = $2",
                &[project.as_str(), id.as_str()],
            )
            .await?;
        row.map(NetworkRow::into_model).transpose()
    }

    async fn insert_network(&self, n: &Network) -> CoreResult<()> {
        on_pool!(&self.pool, |p| sqlx::query(
            "INSERT INTO networks (id, project_id, provider, region, description, public_access,
                                   cidr_block, status, created)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
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
        .execute(p)
        .await
        .map_err(StoreError::from)?
        .rows_affected());
        Ok(())
    }

    async fn update_network(&self, n: &Network) -> CoreResult<()> {
        let updated = on_pool!(&self.pool, |p| {
            sqlx::query(
            "UPDATE networks SET description = $2, public_access = $3, cidr_block = $4, status = $5
             WHERE id = $1"
        )
        .bind(n.id.as_str())
        .bind(&n.description)
        .bind(n.public_access)
        .bind(n.cidr_block.as_deref())
        .bind(n.status.as_str())
        .execute(p)
        .await
        .map_err(StoreError::from)?
        .rows_affected()
        });
        found(updated, "network", n.id.as_str())
    }

    async fn clusters_with_status(&self, status: ClusterStatus) -> CoreResult<Vec<Cluster>> {
        let sql = format!(
            "SELECT {CLUSTER_COLUMNS} FROM clusters WHERE status = $1 ORDER BY created, id"
        );
        let rows: Vec<ClusterRow> = self.fetch_all(&sql, &[status.as_str()]).await?;
        rows.into_iter().map(ClusterRow::into_model).collect()
    }

    async fn acquire_lock(&self, lock: &ClusterLock) -> CoreResult<LockOutcome> {
        // Insert-if-absent is the whole lock: the primary key makes exactly one insert win,
        // across connections and instances. A loser reads the holder; if that lock was released
        // in between, it tries again.
        for _ in 0..3 {
            let inserted = on_pool!(&self.pool, |p| sqlx::query(&format!(
                "INSERT INTO cluster_locks ({LOCK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (cluster_id) DO NOTHING"
            ))
            .bind(lock.cluster_id.as_str())
            .bind(lock.kind.as_str())
            .bind(&lock.holder_id)
            .bind(lock.job_id.as_ref().map(|id| id.as_str()))
            .bind(lock.acquired_at)
            .bind(&lock.owner)
            .execute(p)
            .await
            .map_err(StoreError::from)?
            .rows_affected());
            if inserted == 1 {
                return Ok(LockOutcome::Acquired);
            }
            let holder: Option<LockRow> = self
                .fetch_optional(
                    &format!("SELECT {LOCK_COLUMNS} FROM cluster_locks WHERE cluster_id = $1"),
                    &[lock.cluster_id.as_str()],
                )
                .await?;
            if let Some(holder) = holder {
                return Ok(LockOutcome::HeldBy(holder.into_model()?));
            }
        }
        Err(CoreError::Unavailable(format!(
            "the lock of cluster {} changed hands too often to be taken; try again",
            lock.cluster_id
        )))
    }

    async fn release_lock(&self, cluster: &ClusterId, holder_id: &str) -> CoreResult<bool> {
        let deleted = on_pool!(&self.pool, |p| sqlx::query(
            "DELETE FROM cluster_locks WHERE cluster_id = $1 AND holder_id = $2"
        )
        .bind(cluster.as_str())
        .bind(holder_id)
        .execute(p)
        .await
        .map_err(StoreError::from)?
        .rows_affected());
        Ok(deleted > 0)
    }

    async fn locks(&self) -> CoreResult<Vec<ClusterLock>> {
        let sql = format!("SELECT {LOCK_COLUMNS} FROM cluster_locks ORDER BY acquired_at");
        let rows: Vec<LockRow> = self.fetch_all(&sql, &[]).await?;
        rows.into_iter().map(LockRow::into_model).collect()
    }

    async fn heartbeat(&self, instance: &str, at: DateTime<Utc>) -> CoreResult<()> {
        on_pool!(&self.pool, |p| {
            sqlx::query(
                "INSERT INTO instances (id, heartbeat_at) VALUES ($1, $2)
                 ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
            )
            .bind(instance)
            .bind(at)
            .execute(p)
            .await
            .map_err(StoreError::from)?;
            sqlx::query("DELETE FROM instances WHERE heartbeat_at < $1")
                .bind(at - chrono::TimeDelta::days(1))
                .execute(p)
                .await
                .map_err(StoreError::from)?
                .rows_affected()
        });
        Ok(())
    }

    async fn heartbeats(&self) -> CoreResult<Vec<(String, DateTime<Utc>)>> {
        let rows: Vec<(String, DateTime<Utc>)> = self
            .fetch_all("SELECT id, heartbeat_at FROM instances", &[])
            .await?;
        Ok(rows)
    }

    async fn last_backup_successes(&self) -> CoreResult<Vec<cairn_core::ports::BackupSuccess>> {
        const SUCCEEDED: &str =
            "status IN ('available', 'deleting', 'deleted') AND failure_reason IS NULL";
        let sql = format!(
            "SELECT b.source_cluster_id, b.project_id, b.created, b.finished, b.bytes_stored
             FROM backups b JOIN (SELECT source_cluster_id, MAX(created) AS last FROM backups
                                  WHERE {SUCCEEDED} GROUP BY source_cluster_id) m
               ON b.source_cluster_id = m.source_cluster_id AND b.created = m.last
             WHERE {SUCCEEDED}"
        );
        let rows: Vec<LastBackupRow> = self.fetch_all(&sql, &[]).await?;
        let mut seen = std::collections::HashSet::new();
        let mut successes = Vec::new();
        for row in rows {
            let corrupt = |e: String| StoreError::Corrupt(format!("backups: {e}"));
            let cluster_id =
                ClusterId::parse(&row.source_cluster_id).map_err(|e| corrupt(e.to_string()))?;
            // Two backups of one cluster at the same instant: either says when.
            if !seen.insert(cluster_id.clone()) {
                continue;
            }
            successes.push(cairn_core::ports::BackupSuccess {
                cluster_id,
                project_id: ProjectId::parse(&row.project_id)
                    .map_err(|e| corrupt(e.to_string()))?,
                created: row.created,
                finished: row.finished,
                bytes_stored: row.bytes_stored.and_then(|b| u64::try_from(b).ok()),
            });
        }
        Ok(successes)
    }

    async fn count_pending_deliveries(&self) -> CoreResult<u64> {
        let n: i64 = on_pool!(&self.pool, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'"
        )
        .fetch_one(p)
        .await
        .map_err(StoreError::from)?);
        Ok(u64::try_from(n).unwrap_or_default())
    }

    async fn count_backups_of_cluster(&self, cluster: &ClusterId) -> CoreResult<u64> {
        let n: i64 = on_pool!(&self.pool, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM backups WHERE source_cluster_id = $1"
        )
        .bind(cluster.as_str())
        .fetch_one(p)
        .await
        .map_err(StoreError::from)?);
        Ok(u64::try_from(n).unwrap_or_default())
    }

    async fn insert_backup(&self, b: &Backup) -> CoreResult<()> {
        let sql = format!(
            "INSERT INTO backups ({BACKUP_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19, $20, $21, $22, $23)"
        );
        let verification = b
            .verification
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(CoreError::internal)?;
        on_pool!(&self.pool, |p| sqlx::query(&sql)
            .bind(b.id.as_str())
            .bind(b.project_id.as_str())
            .bind(&b.description)
            .bind(b.source_cluster_id.as_str())
            .bind(&b.source_cluster_description)
            .bind(&b.provider)
            .bind(&b.region)
            .bind(&b.server_version)
            .bind(&b.server_version_tag)
            .bind(i64::from(b.size_gb))
            .bind(i64::from(b.available_node_count))
            .bind(b.status.as_str())
            .bind(b.created)
            .bind(b.linked_resource.as_ref().map(|id| id.as_str()))
            .bind(b.bytes_stored.map(to_i64))
            .bind(b.bytes_new.map(to_i64))
            .bind(b.file_count.map(to_i64))
            .bind(b.checksum.as_deref())
            .bind(b.failure_reason.as_deref())
            .bind(b.finished)
            .bind(b.contents.map(|c| to_i64(c.event_count)))
            .bind(b.contents.map(|c| to_i64(c.last_position)))
            .bind(verification.as_deref())
            .execute(p)
            .await
            .map_err(StoreError::from)?
            .rows_affected());
        Ok(())
    }

    async fn backup(&self, project: &ProjectId, id: &BackupId) -> CoreResult<Option<Backup>> {
        let sql = format!("SELECT {BACKUP_COLUMNS} FROM backups WHERE project_id = $1 AND id = $2");
        let row: Option<BackupRow> = self
            .fetch_optional(&sql, &[project.as_str(), id.as_str()])
            .await?;
        row.map(BackupRow::into_model).transpose()
    }

    async fn backups(&self, project: &ProjectId) -> CoreResult<Vec<Backup>> {
        let sql = format!(
            "SELECT {BACKUP_COLUMNS} FROM backups
             WHERE project_id = $1 AND status <> 'deleted' ORDER BY created, id"
        );
        let rows: Vec<BackupRow> = self.fetch_all(&sql, &[project.as_str()]).await?;
        rows.into_iter().map(BackupRow::into_model).collect()
    }

    async fn backups_with_status(&self, status: BackupStatus) -> CoreResult<Vec<Backup>> {
        let sql =
            format!("SELECT {BACKUP_COLUMNS} FROM backups WHERE status = $1 ORDER BY created, id");
        let rows: Vec<BackupRow> = self.fetch_all(&sql, &[status.as_str()]).await?;
        rows.into_iter().map(BackupRow::into_model).collect()
    }

    async fn update_backup(&self, b: &Backup) -> CoreResult<()> {
        let updated = on_pool!(&self.pool, |p| sqlx::query(
            "UPDATE backups SET description = $2, available_node_count = $3, status = $4,
                    bytes_stored = $5, bytes_new = $6, file_count = $7, checksum = $8,
                    failure_reason = $9, finished = $10, event_count = $11, last_position = $12
             WHERE id = $1"
        )
        .bind(b.id.as_str())
        .bind(&b.description)
        .bind(i64::from(b.available_node_count))
        .bind(b.status.as_str())
        .bind(b.bytes_stored.map(to_i64))
        .bind(b.bytes_new.map(to_i64))
        .bind(b.file_count.map(to_i64))
        .bind(b.checksum.as_deref())
        .bind(b.failure_reason.as_deref())
        .bind(b.finished)
        .bind(b.contents.map(|c| to_i64(c.event_count)))
        .bind(b.contents.map(|c| to_i64(c.last_position)))
        .execute(p)
        .await
        .map_err(StoreError::from)?
        .rows_affected());
        found(updated, "backup", b.id.as_str())
    }

    async fn set_verification(
        &self,
        id: &BackupId,
        verification: &cairn_model::Verification,
    ) -> CoreResult<bool> {
        let json = serde_json::to_string(verification).map_err(CoreError::internal)?;
        let updated = on_pool!(&self.pool, |p| sqlx::query(
            "UPDATE backups SET verification = $2 WHERE id = $1"
        )
        .bind(id.as_str())
        .bind(&json)
        .execute(p)
        .await
        .map_err(StoreError::from)?
        .rows_affected());
        Ok(updated == 1)
    }

    async fn job_backups(&self, job: &JobId) -> CoreResult<Vec<Backup>> {
        let sql = format!(
            "SELECT {BACKUP_COLUMNS} FROM backups
             WHERE linked_resource = $1 AND status <> 'deleted' ORDER BY created, id"
        );
        let rows: Vec<BackupRow> = self.fetch_all(&sql, &[job.as_str()]).await?;
        rows.into_iter().map(BackupRow::into_model).collect()
    }

    async fn insert_job(&self, j: &Job) -> CoreResult<()> {
        let sql = format!(
            "INSERT INTO jobs ({JOB_COLUMNS}, schedule_from)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)"
        );
        on_pool!(&self.pool, |p| sqlx::query(&sql)
            .bind(j.id.as_str())
            .bind(j.organization_id.as_str())
            .bind(j.project_id.as_str())
            .bind(&j.description)
            .bind(&j.schedule)
            .bind(wire_text(&j.status))
            .bind(wire_text(&j.job_type))
            .bind(j.data.cluster_id.as_str())
            .bind(&j.data.description)
            .bind(i64::from(j.data.max_backup_count))
            .bind(j.created)
            .execute(p)
            .await
            .map_err(StoreError::from)?
            .rows_affected());
        Ok(())
    }

    async fn job(&self, project: &ProjectId, id: &JobId) -> CoreResult<Option<Job>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE project_id = $1 AND id = $2");
        let row: Option<JobRow> = self
            .fetch_optional(&sql, &[project.as_str(), id.as_str()])
            .await?;
        row.map(JobRow::into_model).transpose()
    }

    async fn jobs(&self, project: &ProjectId) -> CoreResult<Vec<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs
             WHERE project_id = $1 AND status <> 'deleted' ORDER BY created, id"
        );
        let rows: Vec<JobRow> = self.fetch_all(&sql, &[project.as_str()]).await?;
        rows.into_iter().map(JobRow::into_model).collect()
    }

    async fn update_job(&self, j: &Job) -> CoreResult<()> {
        // Jobs are immutable but for their status (as in Kurrent Cloud's API).
        let updated = on_pool!(&self.pool, |p| sqlx::query(
            "UPDATE jobs SET status = $2 WHERE id = $1"
        )
        .bind(j.id.as_str())
        .bind(wire_text(&j.status))
        .execute(p)
        .await
        .map_err(StoreError::from)?
        .rows_affected());
        found(updated, "job", j.id.as_str())
    }

    async fn insert_history(&self, h: &HistoryItem) -> CoreResult<()> {
        let sql = format!(
            "INSERT INTO job_history ({HISTORY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        on_pool!(&self.pool, |p| bind_history!(sqlx::query(&sql), h)
            .execute(p)
            .await
            .map_err(StoreError::from)?
            .rows_affected());
        Ok(())
    }

    async fn update_history(&self, h: &HistoryItem) -> CoreResult<()> {
        let updated = on_pool!(&self.pool, |p| {
            sqlx::query(
            "UPDATE job_history SET status = $2, details = $3, linked_resource = $4, end_time = $5
             WHERE id = $1"
        )
        .bind(h.id.as_str())
        .bind(wire_text(&h.status))
        .bind(&h.details)
        .bind(h.linked_resource.as_ref().map(|id| id.as_str()))
        .bind(h.end_time)
        .execute(p)
        .await
        .map_err(StoreError::from)?
        .rows_affected()
        });
        found(updated, "history item", h.id.as_str())
    }

    async fn scheduled_jobs(&self) -> CoreResult<Vec<(Job, DateTime<Utc>)>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS}, schedule_from,
                    (SELECT MAX(r.due_at) FROM job_runs r WHERE r.job_id = jobs.id) AS last_due
             FROM jobs WHERE status = 'running' ORDER BY created, id"
        );
        let rows: Vec<ScheduledJobRow> = self.fetch_all(&sql, &[]).await?;
        rows.into_iter().map(ScheduledJobRow::into_model).collect()
    }

    async fn set_schedule_from(&self, job: &JobId, from: DateTime<Utc>) -> CoreResult<()> {
        let updated = on_pool!(&self.pool, |p| sqlx::query(
            "UPDATE jobs SET schedule_from = $2 WHERE id = $1"
        )
        .bind(job.as_str())
        .bind(from)
        .execute(p)
        .await
        .map_err(StoreError::from)?
        .rows_affected());
        found(updated, "job", job.as_str())
    }

    async fn claim_run(&self, due_at: DateTime<Utc>, h: &HistoryItem) -> CoreResult<bool> {
        // The history item first (job_runs refers to it), then the claim; a claim that loses
        // to another instance rolls both back.
        let history_sql = format!(
            "INSERT INTO job_history ({HISTORY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        let claimed = on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.map_err(StoreError::from)?;
            bind_history!(sqlx::query(&history_sql), h)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            let inserted = sqlx::query(
                "INSERT INTO job_runs (job_id, due_at, history_id) VALUES ($1, $2, $3)
                 ON CONFLICT (job_id, due_at) DO NOTHING",
            )
            .bind(h.job_id.as_str())
            .bind(due_at)
            .bind(h.id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?
            .rows_affected();
            if inserted == 1 {
                tx.commit().await.map_err(StoreError::from)?;
                true
            } else {
                tx.rollback().await.map_err(StoreError::from)?;
                false
            }
        });
        Ok(claimed)
    }

    async fn rename(&self, field: Renamable, id: &str, text: &str) -> CoreResult<bool> {
        // Table and column come from a closed list, never from input.
        let (table, column) = field.column();
        let sql = format!("UPDATE {table} SET {column} = $2 WHERE id = $1");
        let updated = on_pool!(&self.pool, |p| sqlx::query(&sql)
            .bind(id)
            .bind(text)
            .execute(p)
            .await
            .map_err(StoreError::from)?
            .rows_affected());
        Ok(updated == 1)
    }

    async fn insert_integration(&self, i: &Integration) -> CoreResult<()> {
        let sink = serde_json::to_string(&i.sink).map_err(CoreError::internal)?;
        let sql = format!(
            "INSERT INTO integrations ({INTEGRATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        );
        on_pool!(&self.pool, |p| sqlx::query(&sql)
            .bind(i.id.as_str())
            .bind(i.organization_id.as_str())
            .bind(i.project_id.as_str())
            .bind(&i.description)
            .bind(i.source.as_str())
            .bind(&sink)
            .bind(i.created)
            .bind(i.updated)
            .execute(p)
            .await
            .map_err(StoreError::from)?
            .rows_affected());
        Ok(())
    }

    async fn integration(&self, id: &IntegrationId) -> CoreResult<Option<Integration>> {
        let sql =
            format!("SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE id = $1 AND NOT deleted");
        let row: Option<IntegrationRow> = self.fetch_optional(&sql, &[id.as_str()]).await?;
        row.map(IntegrationRow::into_model).transpose()
    }

    async fn integrations(&self, project: &ProjectId) -> CoreResult<Vec<Integration>> {
        let sql = format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations
             WHERE project_id = $1 AND NOT deleted ORDER BY created, id"
        );
        let rows: Vec<IntegrationRow> = self.fetch_all(&sql, &[project.as_str()]).await?;
        rows.into_iter().map(IntegrationRow::into_model).collect()
    }

    async fn update_integration(&self, i: &Integration) -> CoreResult<bool> {
        let sink = serde_json::to_string(&i.sink).map_err(CoreError::internal)?;
        let updated = on_pool!(&self.pool, |p| sqlx::query(
            "UPDATE integrations SET description = $2, source = $3, sink = $4, updated = $5
             WHERE id = $1 AND NOT deleted"
        )
        .bind(i.id.as_str())
        .bind(&i.description)
        .bind(i.source.as_str())
        .bind(&sink)
        .bind(i.updated)
        .execute(p)
        .await
        .map_err(StoreError::from)?
        .rows_affected());
        Ok(updated == 1)
    }

    async fn delete_integration(&self, id: &IntegrationId, at: DateTime<Utc>) -> CoreResult<bool> {
        let reason = format!(
            "the integration was deleted at {}",
            at.format("%Y-%m-%d %H:%M:%S UTC")
        );
        let deleted = on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.map_err(StoreError::from)?;
            let deleted =
                sqlx::query("UPDATE integrations SET deleted = TRUE WHERE id = $1 AND NOT deleted")
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from)?
                    .rows_affected();
            sqlx::query(
                "UPDATE deliveries SET status = 'failed', next_attempt = NULL, last_error = $2
                 WHERE integration_id = $1 AND status = 'pending'",
            )
            .bind(id.as_str())
            .bind(&reason)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            tx.commit().await.map_err(StoreError::from)?;
            deleted
        });
        Ok(deleted == 1)
    }

    async fn record_event(&self, e: &Event, deliveries: &[Delivery]) -> CoreResult<()> {
        let sql = format!(
            "INSERT INTO events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        let delivery_sql = format!(
            "INSERT INTO deliveries ({DELIVERY_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.map_err(StoreError::from)?;
            let inserted = bind_event!(sqlx::query(&sql), e).execute(&mut *tx).await;
            match inserted {
                Ok(_) => {}
                // Another instance opened the same issue first: it is open, nothing to add.
                Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                    tx.rollback().await.map_err(StoreError::from)?;
                    return Ok(());
                }
                Err(error) => return Err(StoreError::from(error).into()),
            }
            for d in deliveries {
                bind_delivery!(sqlx::query(&delivery_sql), d)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from)?;
            }
            tx.commit().await.map_err(StoreError::from)?;
        });
        Ok(())
    }

    async fn close_issue(
        &self,
        id: &EventId,
        at: DateTime<Utc>,
        deliveries: &[Delivery],
    ) -> CoreResult<bool> {
        let delivery_sql = format!(
            "INSERT INTO deliveries ({DELIVERY_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        let closed = on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.map_err(StoreError::from)?;
            let closed = sqlx::query(
                "UPDATE events SET status = 'closed', closed = $2 WHERE id = $1 AND status = 'open'",
            )
            .bind(id.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?
            .rows_affected();
            if closed == 1 {
                for d in deliveries {
                    bind_delivery!(sqlx::query(&delivery_sql), d)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::from)?;
                }
            }
            tx.commit().await.map_err(StoreError::from)?;
            closed
        });
        Ok(closed == 1)
    }

    async fn record_test(&self, event: &Event, delivery: &Delivery) -> CoreResult<()> {
        self.record_event(event, std::slice::from_ref(delivery))
            .await
    }

    async fn event(&self, id: &EventId) -> CoreResult<Option<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1");
        let row: Option<EventRow> = self.fetch_optional(&sql, &[id.as_str()]).await?;
        row.map(EventRow::into_model).transpose()
    }

    async fn events(&self, project: &ProjectId, limit: u32) -> CoreResult<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE project_id = $1
             ORDER BY created DESC, id DESC LIMIT {limit}"
        );
        let rows: Vec<EventRow> = self.fetch_all(&sql, &[project.as_str()]).await?;
        rows.into_iter().map(EventRow::into_model).collect()
    }

    async fn open_issues(&self) -> CoreResult<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE status = 'open' ORDER BY created, id"
        );
        let rows: Vec<EventRow> = self.fetch_all(&sql, &[]).await?;
        rows.into_iter().map(EventRow::into_model).collect()
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: DateTime<Utc>,
        limit: u32,
    ) -> CoreResult<Vec<Delivery>> {
        // The outer conditions are checked again on update: of two instances claiming at
        // once, the second finds the row leased and leaves it.
        let sql = format!(
            "UPDATE deliveries SET next_attempt = $2
             WHERE id IN (SELECT id FROM deliveries
                          WHERE status = 'pending' AND next_attempt <= $1
                          ORDER BY next_attempt LIMIT {limit})
               AND status = 'pending' AND next_attempt <= $1
             RETURNING {DELIVERY_COLUMNS}"
        );
        let rows: Vec<DeliveryRow> = on_pool!(&self.pool, |p| sqlx::query_as(&sql)
            .bind(now)
            .bind(lease)
            .fetch_all(p)
            .await
            .map_err(StoreError::from)?);
        rows.into_iter().map(DeliveryRow::into_model).collect()
    }

    async fn finish_delivery(&self, d: &Delivery) -> CoreResult<()> {
        on_pool!(&self.pool, |p| sqlx::query(
            "UPDATE deliveries SET status = $2, attempts = $3, next_attempt = $4, last_error = $5,
                    delivered = $6
             WHERE id = $1"
        )
        .bind(d.id.as_str())
        .bind(wire_text(&d.status))
        .bind(i64::from(d.attempts))
        .bind(d.next_attempt)
        .bind(d.last_error.as_deref())
        .bind(d.delivered)
        .execute(p)
        .await
        .map_err(StoreError::from)?
        .rows_affected());
        Ok(())
    }

    async fn deliveries(
        &self,
        integration: &IntegrationId,
        limit: u32,
    ) -> CoreResult<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE integration_id = $1
             ORDER BY created DESC, id DESC LIMIT {limit}"
        );
        let rows: Vec<DeliveryRow> = self.fetch_all(&sql, &[integration.as_str()]).await?;
        rows.into_iter().map(DeliveryRow::into_model).collect()
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> CoreResult<u64> {
        let pruned = on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.map_err(StoreError::from)?;
            sqlx::query("DELETE FROM deliveries WHERE status <> 'pending' AND created < $1")
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            let pruned = sqlx::query(
                "DELETE FROM events WHERE created < $1 AND (status IS NULL OR status <> 'open')
                   AND NOT EXISTS (SELECT 1 FROM deliveries WHERE deliveries.event_id = events.id)",
            )
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?
            .rows_affected();
            tx.commit().await.map_err(StoreError::from)?;
            pruned
        });
        Ok(pruned)
    }

    async fn last_successes(&self) -> CoreResult<std::collections::HashMap<JobId, DateTime<Utc>>> {
        let rows: Vec<LastSuccessRow> = self
            .fetch_all(
                "SELECT job_id, MAX(end_time) AS last FROM job_history
                 WHERE status = 'succeeded' AND end_time IS NOT NULL GROUP BY job_id",
                &[],
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                let job = JobId::parse(&row.job_id)
                    .map_err(|e| StoreError::Corrupt(format!("job_history: job id: {e}")))?;
                Ok((job, row.last))
            })
            .collect()
    }

    async fn count_users(&self) -> CoreResult<u64> {
        let n: i64 = on_pool!(&self.pool, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM users"
        )
        .fetch_one(p)
        .await
        .map_err(StoreError::from)?);
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
            let mut tx = p.begin().await.map_err(StoreError::from)?;
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
                    put_grant_query(grant)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::from)?;
                }
                tx.commit().await.map_err(StoreError::from)?;
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
            .map_err(StoreError::from)?
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
            .map_err(StoreError::from)?
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
        .map_err(StoreError::from)?
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
        .map_err(StoreError::from)?
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
            let mut tx = p.begin().await.map_err(StoreError::from)?;
            let changed = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                .bind(user.as_str())
                .bind(password_hash)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?
                .rows_affected()
                == 1;
            if changed {
                sqlx::query(END_SESSIONS)
                    .bind(user.as_str())
                    .bind(keep)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from)?;
                tx.commit().await.map_err(StoreError::from)?;
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
            .map_err(StoreError::from)?
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
        .map_err(StoreError::from)?
        .rows_affected());
        Ok(())
    }

    async fn history(&self, job: &JobId, limit: u32) -> CoreResult<Vec<HistoryItem>> {
        let sql = format!(
            "SELECT {HISTORY_COLUMNS} FROM job_history WHERE job_id = $1
             ORDER BY start_time DESC, id DESC LIMIT {limit}"
        );
        let rows: Vec<HistoryRow> = self.fetch_all(&sql, &[job.as_str()]).await?;
        rows.into_iter().map(HistoryRow::into_model).collect()
    }

    async fn project_history(
        &self,
        project: &ProjectId,
        job: Option<&JobId>,
        limit: u32,
    ) -> CoreResult<Vec<HistoryItem>> {
        let (filter, binds) = match job {
            Some(job) => ("AND job_id = $2", vec![project.as_str(), job.as_str()]),
            None => ("", vec![project.as_str()]),
        };
        let sql = format!(
            "SELECT {HISTORY_COLUMNS} FROM job_history WHERE project_id = $1 {filter}
             ORDER BY start_time DESC, id DESC LIMIT {limit}"
        );
        let rows: Vec<HistoryRow> = self.fetch_all(&sql, &binds).await?;
        rows.into_iter().map(HistoryRow::into_model).collect()
    }

    async fn last_runs(
        &self,
        project: &ProjectId,
    ) -> CoreResult<std::collections::HashMap<JobId, HistoryItem>> {
        let sql = format!(
            "SELECT {HISTORY_COLUMNS} FROM job_history WHERE id IN (
                 SELECT (SELECT h.id FROM job_history h WHERE h.job_id = j.id
                         ORDER BY h.start_time DESC, h.id DESC LIMIT 1)
                 FROM jobs j WHERE j.project_id = $1)"
        );
        let rows: Vec<HistoryRow> = self.fetch_all(&sql, &[project.as_str()]).await?;
        rows.into_iter()
            .map(|row| row.into_model().map(|item| (item.job_id.clone(), item)))
            .collect()
    }

    async fn run_of_backup(
        &self,
        job: &JobId,
        backup: &BackupId,
    ) -> CoreResult<Option<HistoryItem>> {
        let sql = format!(
            "SELECT {HISTORY_COLUMNS} FROM job_history WHERE linked_resource = $1 AND job_id = $2
             ORDER BY start_time DESC, id DESC LIMIT 1"
        );
        let row: Option<HistoryRow> = self
            .fetch_optional(&sql, &[backup.as_str(), job.as_str()])
            .await?;
        row.map(HistoryRow::into_model).transpose()
    }

    async fn end_run_if_started(&self, h: &HistoryItem) -> CoreResult<bool> {
        let updated = on_pool!(&self.pool, |p| {
            sqlx::query(
            "UPDATE job_history SET status = $2, details = $3, linked_resource = $4, end_time = $5
             WHERE id = $1 AND status = 'started'"
        )
        .bind(h.id.as_str())
        .bind(wire_text(&h.status))
        .bind(&h.details)
        .bind(h.linked_resource.as_ref().map(|id| id.as_str()))
        .bind(h.end_time)
        .execute(p)
        .await
        .map_err(StoreError::from)?
        .rows_affected()
        });
        Ok(updated == 1)
    }

    async fn started_runs(&self) -> CoreResult<Vec<HistoryItem>> {
        let sql = format!("SELECT {HISTORY_COLUMNS} FROM job_history WHERE status = 'started'");
        let rows: Vec<HistoryRow> = self.fetch_all(&sql, &[]).await?;
        rows.into_iter().map(HistoryRow::into_model).collect()
    }

    async fn prune_history(&self, before: DateTime<Utc>) -> CoreResult<u64> {
        // Each job's latest run stays (its overview shows it), however old, and so does the
        // run of its newest claim: the schedule counts from it (Store::scheduled_jobs).
        const OLD: &str = "SELECT h.id FROM job_history h
             WHERE h.end_time IS NOT NULL AND h.end_time < $1
               AND h.id <> (SELECT l.id FROM job_history l WHERE l.job_id = h.job_id
                            ORDER BY l.start_time DESC, l.id DESC LIMIT 1)
               AND h.id NOT IN (SELECT r.history_id FROM job_runs r
                                WHERE r.due_at = (SELECT MAX(n.due_at) FROM job_runs n
                                                  WHERE n.job_id = r.job_id))";
        let pruned = on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.map_err(StoreError::from)?;
            sqlx::query(&format!("DELETE FROM job_runs WHERE history_id IN ({OLD})"))
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            let pruned = sqlx::query(&format!("DELETE FROM job_history WHERE id IN ({OLD})"))
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?
                .rows_affected();
            tx.commit().await.map_err(StoreError::from)?;
            pruned
        });
        Ok(pruned)
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

/// Gives a user a role at a place, replacing the one they had there.
fn put_grant_query<'q, DB: sqlx::Database>(
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
            CoreError::Conflict(format!("a user with email {email} exists"))
        }
        _ => StoreError::from(error).into(),
    }
}

/// Revokes (at `$3`) the live console sessions of user `$1` but the one with id `$2` (`''`:
/// none kept).
const END_SESSIONS: &str = "UPDATE credentials SET revoked = $3
     WHERE user_id = $1 AND kind = 'session' AND id <> $2 AND revoked IS NULL
       AND (expires IS NULL OR expires > $3)";

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
