//! Jobs, their history and the scheduler's claims ([`JobStore`]).

use crate::rows::{
    wire_text, HistoryRow, JobRow, LastSuccessRow, ScheduledJobRow, HISTORY_COLUMNS, JOB_COLUMNS,
};
use crate::{found, Db, InProject, Listing, SqlStore, StoreError};
use async_trait::async_trait;
use cairn_core::{JobStore, Result as CoreResult};
use cairn_model::{BackupId, HistoryItem, Job, JobId, JobType, Page, PageRequest, ProjectId};
use chrono::{DateTime, Utc};

impl InProject<Job> for JobRow {
    const TABLE: &'static str = "jobs";
    const COLUMNS: &'static str = JOB_COLUMNS;
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

#[async_trait]
impl JobStore for SqlStore {
    async fn insert_job(&self, j: &Job) -> CoreResult<()> {
        let sql = format!(
            "INSERT INTO jobs ({JOB_COLUMNS}, schedule_from)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)"
        );
        execute!(
            self,
            &sql,
            j.id.as_str(),
            j.organization_id.as_str(),
            j.project_id.as_str(),
            &j.description,
            &j.schedule,
            wire_text(&j.status),
            wire_text(&j.job_type),
            j.data.cluster_id.as_str(),
            &j.data.description,
            i64::from(j.data.max_backup_count),
            j.created,
        );
        Ok(())
    }

    async fn job(&self, project: &ProjectId, id: &JobId) -> CoreResult<Option<Job>> {
        self.in_project::<JobRow, _>(project, id.as_str()).await
    }

    async fn jobs(&self, project: &ProjectId) -> CoreResult<Vec<Job>> {
        self.live_in_project::<JobRow, _>(project).await
    }

    async fn jobs_page(
        &self,
        project: &ProjectId,
        job_type: Option<JobType>,
        request: &PageRequest,
    ) -> CoreResult<Page<Job>> {
        let f = &request.filters;
        let job_type = job_type.map(|t| wire_text(&t));
        let mut listing = Listing::new(JOB_COLUMNS, "jobs", "created");
        listing
            .when("project_id = {}", project.as_str())
            .always("status <> 'deleted'")
            .equals("job_type", job_type.as_deref())
            .equals("status", f.status.as_deref())
            .equals("cluster_id", f.cluster_id.as_deref())
            .equals("id", f.job_id.as_deref())
            .search(
                f.q.as_deref(),
                &["description", "label", "id", "cluster_id"],
            );
        self.page::<JobRow, _>(listing, request, |j| (j.created, j.id.to_string()))
            .await
    }

    async fn update_job(&self, j: &Job) -> CoreResult<()> {
        // Only the status: what a person edits is `edit_job`'s (in Kurrent Cloud's API jobs
        // change only by pausing, resuming and deleting).
        let sql = "UPDATE jobs SET status = $2 WHERE id = $1";
        let updated = execute!(self, sql, j.id.as_str(), wire_text(&j.status));
        found(updated, "job", j.id.as_str())
    }

    async fn edit_job(&self, j: &Job, now: DateTime<Utc>) -> CoreResult<()> {
        // SET sees the row as it was: a changed schedule counts from `now`.
        let sql = "UPDATE jobs SET description = $2, label = $4, max_backup_count = $5,
                       schedule_from = CASE WHEN schedule = $3 THEN schedule_from ELSE $6 END,
                       schedule = $3
                   WHERE id = $1 AND status <> 'deleted'";
        let updated = execute!(
            self,
            sql,
            j.id.as_str(),
            &j.description,
            &j.schedule,
            &j.data.description,
            i64::from(j.data.max_backup_count),
            now,
        );
        found(updated, "job", j.id.as_str())
    }

    async fn insert_history(&self, h: &HistoryItem) -> CoreResult<()> {
        let sql = format!(
            "INSERT INTO job_history ({HISTORY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        run!(self, bind_history!(sqlx::query(&sql), h));
        Ok(())
    }

    async fn update_history(&self, h: &HistoryItem) -> CoreResult<()> {
        let updated = self.end_run(END_RUN, h).await?;
        found(updated, "history item", h.id.as_str())
    }

    async fn history(&self, job: &JobId, limit: u32) -> CoreResult<Vec<HistoryItem>> {
        let sql = format!(
            "SELECT {HISTORY_COLUMNS} FROM job_history WHERE job_id = $1
             ORDER BY start_time DESC, id DESC LIMIT {limit}"
        );
        self.all::<HistoryRow, _>(&sql, &[job.as_str()]).await
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
        self.all::<HistoryRow, _>(&sql, &binds).await
    }

    async fn history_page(
        &self,
        project: &ProjectId,
        request: &PageRequest,
    ) -> CoreResult<Page<HistoryItem>> {
        let f = &request.filters;
        let mut listing = Listing::new(HISTORY_COLUMNS, "job_history", "start_time");
        listing
            .when("project_id = {}", project.as_str())
            .equals("status", f.status.as_deref())
            .equals("job_id", f.job_id.as_deref())
            .search(
                f.q.as_deref(),
                &["details", "id", "job_id", "linked_resource"],
            );
        if let Some(cluster) = f.cluster_id.as_deref() {
            listing.when(
                "job_id IN (SELECT j.id FROM jobs j WHERE j.cluster_id = {})",
                cluster,
            );
        }
        self.page::<HistoryRow, _>(listing, request, |h| (h.start_time, h.id.to_string()))
            .await
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
        let items = self.all::<HistoryRow, _>(&sql, &[project.as_str()]).await?;
        Ok(items
            .into_iter()
            .map(|item| (item.job_id.clone(), item))
            .collect())
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
        self.one::<HistoryRow, _>(&sql, &[backup.as_str(), job.as_str()])
            .await
    }

    async fn end_run_if_started(&self, h: &HistoryItem) -> CoreResult<bool> {
        let sql = format!("{END_RUN} AND status = 'started'");
        Ok(self.end_run(&sql, h).await? == 1)
    }

    async fn started_runs(&self) -> CoreResult<Vec<HistoryItem>> {
        let sql = format!("SELECT {HISTORY_COLUMNS} FROM job_history WHERE status = 'started'");
        self.all::<HistoryRow, _>(&sql, &[]).await
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
        let claims = format!("DELETE FROM job_runs WHERE history_id IN ({OLD})");
        let runs = format!("DELETE FROM job_history WHERE id IN ({OLD})");
        self.prune(&[claims.as_str(), runs.as_str()], before).await
    }

    async fn scheduled_jobs(&self) -> CoreResult<Vec<(Job, DateTime<Utc>)>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS}, schedule_from,
                    (SELECT MAX(r.due_at) FROM job_runs r WHERE r.job_id = jobs.id) AS last_due
             FROM jobs WHERE status = 'running' ORDER BY created, id"
        );
        self.all::<ScheduledJobRow, _>(&sql, &[]).await
    }

    async fn set_schedule_from(&self, job: &JobId, from: DateTime<Utc>) -> CoreResult<()> {
        let sql = "UPDATE jobs SET schedule_from = $2 WHERE id = $1";
        let updated = execute!(self, sql, job.as_str(), from);
        found(updated, "job", job.as_str())
    }

    async fn claim_run(&self, due_at: DateTime<Utc>, h: &HistoryItem) -> CoreResult<bool> {
        // The history item first (job_runs refers to it), then the claim; a claim that loses
        // to another instance rolls both back.
        let history_sql = format!(
            "INSERT INTO job_history ({HISTORY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        let claimed = on_pool!(&self.pool, |p| {
            let mut tx = p.begin().await.db()?;
            bind_history!(sqlx::query(&history_sql), h)
                .execute(&mut *tx)
                .await
                .db()?;
            let inserted = sqlx::query(
                "INSERT INTO job_runs (job_id, due_at, history_id) VALUES ($1, $2, $3)
                 ON CONFLICT (job_id, due_at) DO NOTHING",
            )
            .bind(h.job_id.as_str())
            .bind(due_at)
            .bind(h.id.as_str())
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if inserted == 1 {
                tx.commit().await.db()?;
                true
            } else {
                tx.rollback().await.db()?;
                false
            }
        });
        Ok(claimed)
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
}

/// Ends the run `$1` as the history item says; `AND …` after it narrows which runs.
const END_RUN: &str = "UPDATE job_history
     SET status = $2, details = $3, linked_resource = $4, end_time = $5 WHERE id = $1";

impl SqlStore {
    /// Runs [`END_RUN`] (or a narrower `sql`) for `h`; how many runs it ended.
    async fn end_run(&self, sql: &str, h: &HistoryItem) -> CoreResult<u64> {
        Ok(execute!(
            self,
            sql,
            h.id.as_str(),
            wire_text(&h.status),
            &h.details,
            h.linked_resource.as_ref().map(|id| id.as_str()),
            h.end_time,
        ))
    }
}
