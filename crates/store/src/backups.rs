//! Backups and their verifications ([`BackupStore`]).

use crate::rows::{BackupRow, JobBackupCountRow, LastBackupRow, BACKUP_COLUMNS};
use crate::{found, to_json, Db, InProject, Listing, SqlStore, StoreError};
use async_trait::async_trait;
use cairn_core::{BackupStore, Result as CoreResult};
use cairn_model::{Backup, BackupId, BackupStatus, ClusterId, JobId, Page, PageRequest, ProjectId};

impl InProject<Backup> for BackupRow {
    const TABLE: &'static str = "backups";
    const COLUMNS: &'static str = BACKUP_COLUMNS;
}

/// Binds what a backup's end settles, in `BACKUP_COLUMNS` order: its sizes, checksum, failure,
/// end and contents.
macro_rules! bind_outcome {
    ($query:expr, $b:expr) => {
        $query
            .bind($b.bytes_stored.map(to_i64))
            .bind($b.bytes_new.map(to_i64))
            .bind($b.file_count.map(to_i64))
            .bind($b.checksum.as_deref())
            .bind($b.failure_reason.as_deref())
            .bind($b.finished)
            .bind($b.contents.map(|c| to_i64(c.event_count)))
            .bind($b.contents.map(|c| to_i64(c.last_position)))
    };
}

#[async_trait]
impl BackupStore for SqlStore {
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

    async fn count_backups_of_cluster(&self, cluster: &ClusterId) -> CoreResult<u64> {
        let sql = "SELECT COUNT(*) FROM backups WHERE source_cluster_id = $1";
        self.count(sql, &[cluster.as_str()]).await
    }

    async fn insert_backup(&self, b: &Backup) -> CoreResult<()> {
        let sql = format!(
            "INSERT INTO backups ({BACKUP_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19, $20, $21, $22, $23, $24, $25)"
        );
        let verification = b.verification.as_ref().map(to_json).transpose()?;
        let source_shape = b.source_shape.as_ref().map(to_json).transpose()?;
        run!(
            self,
            bind_outcome!(
                sqlx::query(&sql)
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
                    .bind(b.linked_resource.as_ref().map(|id| id.as_str())),
                b
            )
            .bind(verification.as_deref())
            .bind(source_shape.as_deref())
            .bind(b.created_by.as_deref())
        );
        Ok(())
    }

    async fn backup(&self, project: &ProjectId, id: &BackupId) -> CoreResult<Option<Backup>> {
        self.in_project::<BackupRow, _>(project, id.as_str()).await
    }

    async fn backups(&self, project: &ProjectId) -> CoreResult<Vec<Backup>> {
        self.live_in_project::<BackupRow, _>(project).await
    }

    async fn backups_page(
        &self,
        project: &ProjectId,
        request: &PageRequest,
    ) -> CoreResult<Page<Backup>> {
        let f = &request.filters;
        let mut listing = Listing::new(BACKUP_COLUMNS, "backups", "created");
        listing
            .when("project_id = {}", project.as_str())
            .always("status <> 'deleted'")
            .equals("status", f.status.as_deref())
            .equals("source_cluster_id", f.cluster_id.as_deref())
            .equals("linked_resource", f.job_id.as_deref())
            .search(
                f.q.as_deref(),
                &[
                    "description",
                    "id",
                    "source_cluster_id",
                    "source_cluster_description",
                    "linked_resource",
                ],
            );
        self.page::<BackupRow, _>(listing, request, |b| (b.created, b.id.to_string()))
            .await
    }

    async fn job_backup_counts(
        &self,
        project: &ProjectId,
    ) -> CoreResult<Vec<cairn_core::ports::JobBackupCount>> {
        let sql = "SELECT linked_resource AS job_id, COUNT(*) AS count,
                          SUM(CASE WHEN status = 'available' THEN 1 ELSE 0 END) AS available,
                          MAX(created) AS newest
                   FROM backups
                   WHERE project_id = $1 AND status <> 'deleted' AND linked_resource IS NOT NULL
                   GROUP BY linked_resource";
        let rows: Vec<JobBackupCountRow> = self.fetch_all(sql, &[project.as_str()]).await?;
        rows.into_iter()
            .map(|row| {
                let job_id = JobId::parse(&row.job_id).map_err(|e| {
                    StoreError::Corrupt(format!("backups: linked_resource '{}': {e}", row.job_id))
                })?;
                Ok(cairn_core::ports::JobBackupCount {
                    job_id,
                    count: u64::try_from(row.count).unwrap_or_default(),
                    available: u64::try_from(row.available).unwrap_or_default(),
                    newest: row.newest,
                })
            })
            .collect()
    }

    async fn backups_with_status(&self, status: BackupStatus) -> CoreResult<Vec<Backup>> {
        let sql =
            format!("SELECT {BACKUP_COLUMNS} FROM backups WHERE status = $1 ORDER BY created, id");
        self.all::<BackupRow, _>(&sql, &[status.as_str()]).await
    }

    async fn update_backup(&self, b: &Backup) -> CoreResult<()> {
        let updated = run!(
            self,
            bind_outcome!(
                sqlx::query(
                    "UPDATE backups SET description = $2, available_node_count = $3, status = $4,
                            bytes_stored = $5, bytes_new = $6, file_count = $7, checksum = $8,
                            failure_reason = $9, finished = $10, event_count = $11,
                            last_position = $12
                     WHERE id = $1"
                )
                .bind(b.id.as_str())
                .bind(&b.description)
                .bind(i64::from(b.available_node_count))
                .bind(b.status.as_str()),
                b
            )
        );
        found(updated, "backup", b.id.as_str())
    }

    async fn set_verification(
        &self,
        id: &BackupId,
        verification: &cairn_model::Verification,
    ) -> CoreResult<bool> {
        let json = to_json(verification)?;
        let sql = "UPDATE backups SET verification = $2 WHERE id = $1";
        Ok(execute!(self, sql, id.as_str(), &json) == 1)
    }

    async fn job_backups(&self, job: &JobId) -> CoreResult<Vec<Backup>> {
        let sql = format!(
            "SELECT {BACKUP_COLUMNS} FROM backups
             WHERE linked_resource = $1 AND status <> 'deleted' ORDER BY created, id"
        );
        self.all::<BackupRow, _>(&sql, &[job.as_str()]).await
    }
}

/// Sizes are u64 in the model and BIGINT in the databases; beyond i64 is not a real size.
fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
