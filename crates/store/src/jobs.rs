//! Jobs, their history and the scheduler's claims ([`JobStore`]).

use crate::rows::{
    wire_text, HistoryRow, JobRow, LastSuccessRow, ScheduledJobRow, HISTORY_COLUMNS, JOB_COLUMNS,
};
use crate::{found, Db, SqlStore, StoreError};
use async_trait::async_trait;
use cairn_core::{JobStore, Result as CoreResult};
use cairn_model::{BackupId, HistoryItem, Job, JobId, ProjectId};
use chrono::{DateTime, Utc};

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
            .db()?
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
        .db()?
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
            .db()?
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
        .db()?
        .rows_affected()
        });
        found(updated, "history item", h.id.as_str())
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
        .db()?
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
            let mut tx = p.begin().await.db()?;
            sqlx::query(&format!("DELETE FROM job_runs WHERE history_id IN ({OLD})"))
                .bind(before)
                .execute(&mut *tx)
                .await
                .db()?;
            let pruned = sqlx::query(&format!("DELETE FROM job_history WHERE id IN ({OLD})"))
                .bind(before)
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected();
            tx.commit().await.db()?;
            pruned
        });
        Ok(pruned)
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
        .db()?
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
