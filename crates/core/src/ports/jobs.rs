//! Jobs, their runs (history) and the claims that make each scheduled run fire once.

use crate::error::Result;
use async_trait::async_trait;
use cairn_model::{BackupId, HistoryItem, Job, JobId, JobType, Page, PageRequest, ProjectId};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Jobs, their history and the scheduler's claims.
#[async_trait]
pub trait JobStore: Send + Sync {
    async fn insert_job(&self, job: &Job) -> Result<()>;
    /// A job of the project, deleted ones included.
    async fn job(&self, project: &ProjectId, id: &JobId) -> Result<Option<Job>>;
    /// Jobs of one project that are not deleted, oldest first.
    async fn jobs(&self, project: &ProjectId) -> Result<Vec<Job>>;
    /// One page of the project's jobs that are not deleted (of one type, when given), by
    /// `(created, id)` (keyset). Filters: `status` (`running`, `paused`), `cluster_id` (the
    /// job's cluster), `q` (in its description, label template, id or cluster id).
    async fn jobs_page(
        &self,
        project: &ProjectId,
        job_type: Option<JobType>,
        request: &PageRequest,
    ) -> Result<Page<Job>>;
    /// Replaces the stored job with the same id.
    async fn update_job(&self, job: &Job) -> Result<()>;
    /// Writes what a person edits of a job — its description, schedule, label template and
    /// how many backups to keep — and nothing else (a pause racing the edit keeps its status);
    /// when the schedule changes, it counts from `now`, in the same statement (no scheduler
    /// sees the new schedule with the old start). A deleted job is not found.
    async fn edit_job(&self, job: &Job, now: DateTime<Utc>) -> Result<()>;

    async fn insert_history(&self, item: &HistoryItem) -> Result<()>;
    /// Replaces the stored history item with the same id.
    async fn update_history(&self, item: &HistoryItem) -> Result<()>;
    /// A job's most recent runs, newest first, at most `limit`.
    async fn history(&self, job: &JobId, limit: u32) -> Result<Vec<HistoryItem>>;
    /// A project's most recent runs (of one job, when given), newest first, at most `limit`,
    /// in one query.
    async fn project_history(
        &self,
        project: &ProjectId,
        job: Option<&JobId>,
        limit: u32,
    ) -> Result<Vec<HistoryItem>>;
    /// One page of the project's runs, by `(start_time, id)` (keyset). Filters: `status` (a
    /// run status), `job_id`, `cluster_id` (runs of that cluster's jobs), `q` (in the details,
    /// the run's id, the job's id or the backup's id).
    async fn history_page(
        &self,
        project: &ProjectId,
        request: &PageRequest,
    ) -> Result<Page<HistoryItem>>;
    /// Each of the project's jobs' latest run, in one query.
    async fn last_runs(&self, project: &ProjectId) -> Result<HashMap<JobId, HistoryItem>>;
    /// The run of `job` that made `backup` (a restore test's runs link the backups they
    /// tested: the job tells them apart).
    async fn run_of_backup(&self, job: &JobId, backup: &BackupId) -> Result<Option<HistoryItem>>;
    /// Ends a run (status, details, end time) if it is still `started`; `false` when it had
    /// ended already (recovery settled it, say), and then nothing is written.
    async fn end_run_if_started(&self, item: &HistoryItem) -> Result<bool>;
    /// Every run still `started`, of every project (for recovery).
    async fn started_runs(&self) -> Result<Vec<HistoryItem>>;
    /// Forgets runs that ended before `before` (and their claims), but each job's latest run;
    /// answers how many went.
    async fn prune_history(&self, before: DateTime<Utc>) -> Result<u64>;

    /// Running jobs of every project, with the time their schedule counts from: the last run
    /// claimed, or when the job was created or last resumed (so a resume fires no missed run).
    async fn scheduled_jobs(&self) -> Result<Vec<(Job, DateTime<Utc>)>>;
    /// Moves the time a job's schedule counts from (on resume).
    async fn set_schedule_from(&self, job: &JobId, from: DateTime<Utc>) -> Result<()>;
    /// Claims the run of `job` due at `due_at` and records `item` for it, in one transaction.
    /// Unique on `(job, due_at)`: of any number of instances, exactly one gets `true`.
    async fn claim_run(&self, due_at: DateTime<Utc>, item: &HistoryItem) -> Result<bool>;
    /// For each job, when a run of it last succeeded.
    async fn last_successes(&self) -> Result<HashMap<JobId, DateTime<Utc>>>;
}
