//! Backups: what was made of which cluster, and how its verification went.

use crate::error::Result;
use async_trait::async_trait;
use cairn_model::{Backup, BackupId, BackupStatus, ClusterId, JobId, Page, PageRequest, ProjectId};
use chrono::{DateTime, Utc};

/// Backups of clusters.
#[async_trait]
pub trait BackupStore: Send + Sync {
    /// For each cluster with one, its newest backup that succeeded (deleted backups count:
    /// they did succeed).
    async fn last_backup_successes(&self) -> Result<Vec<BackupSuccess>>;
    /// How many backups were ever made of a cluster, deleted ones included.
    async fn count_backups_of_cluster(&self, cluster: &ClusterId) -> Result<u64>;
    async fn insert_backup(&self, backup: &Backup) -> Result<()>;
    /// A backup of the project, deleted ones included (they stay readable by id).
    async fn backup(&self, project: &ProjectId, id: &BackupId) -> Result<Option<Backup>>;
    /// Backups of one project that are not deleted, oldest first.
    async fn backups(&self, project: &ProjectId) -> Result<Vec<Backup>>;
    /// One page of the project's backups that are not deleted, by `(created, id)` in the
    /// request's order after its token (keyset). Filters: `status` (a backup status),
    /// `cluster_id` (the source cluster), `job_id` (the job that made it), `q` (in the label,
    /// the backup's id, the source cluster's id or name, or the job's id; any case).
    async fn backups_page(
        &self,
        project: &ProjectId,
        request: &PageRequest,
    ) -> Result<Page<Backup>>;
    /// For each job with backups in the project that are not deleted: how many, how many are
    /// available, and when the newest was made; in one query, whatever their number.
    async fn job_backup_counts(&self, project: &ProjectId) -> Result<Vec<JobBackupCount>>;
    /// Backups of every project in one status (used to settle unfinished work on start).
    async fn backups_with_status(&self, status: BackupStatus) -> Result<Vec<Backup>>;
    /// Replaces the stored backup with the same id (all but its verification).
    async fn update_backup(&self, backup: &Backup) -> Result<()>;
    /// Records a verification of a backup, and only that; `false` when no such backup.
    async fn set_verification(
        &self,
        id: &BackupId,
        verification: &cairn_model::Verification,
    ) -> Result<bool>;
    /// Backups a job made that are not deleted, oldest first.
    async fn job_backups(&self, job: &JobId) -> Result<Vec<Backup>>;
}

/// A cluster's newest successful backup, as monitoring reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSuccess {
    pub cluster_id: ClusterId,
    pub project_id: ProjectId,
    pub created: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    pub bytes_stored: Option<u64>,
}

/// A job's backups counted (`BackupStore::job_backup_counts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobBackupCount {
    pub job_id: JobId,
    pub count: u64,
    pub available: u64,
    pub newest: DateTime<Utc>,
}
