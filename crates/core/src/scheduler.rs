//! The scheduler (domain.md §4): it sleeps until the next time any job falls due (not a fixed
//! poll), then fires what is due. A run is claimed by a row unique on `(job, due time)`, so any
//! number of Cairn instances fire it exactly once. A due time found more than [`GRACE`] in the
//! past was missed (Cairn was not running): it is not caught up, and one failed history item
//! says which runs were missed.

use crate::error::Result;
use crate::held::REFRESH;
use crate::services::{Scope, Services};
use cairn_model::schedule::Schedule;
use cairn_model::{HistoryItem, HistoryStatus, Job};
use chrono::{DateTime, Utc};
use std::future::Future;

/// How late a due run may still start. Past this, it counts as missed.
pub const GRACE: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

impl Services {
    async fn agenda_fresh(&self) -> Result<()> {
        if self.inner().agenda.lock().expect("agenda").is_stale() {
            let jobs = self.inner().store.scheduled_jobs().await?;
            self.inner().agenda.lock().expect("agenda").load(jobs);
        }
        Ok(())
    }

    /// The next time any running job falls due.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        self.agenda_fresh().await?;
        Ok(self.inner().agenda.lock().expect("agenda").next_due())
    }

    /// Fires every run due by now that no instance has claimed; answers the history items this
    /// instance wrote.
    pub async fn run_due_jobs(&self) -> Result<Vec<HistoryItem>> {
        self.agenda_fresh().await?;
        let now = self.inner().clock.now();
        let due = self.inner().agenda.lock().expect("agenda").take_due(now);
        let mut written = Vec::new();
        let mut first_error = None;
        for (job, schedule, from) in due {
            let outcome = self.fire(&job, &schedule, from, now, &mut written).await;
            // Handled up to now whatever happened: the run is claimed (and recorded) or it is
            // another instance's. One job's error does not hold up the others.
            self.inner()
                .agenda
                .lock()
                .expect("agenda")
                .put_back(&job.id, now);
            if let Err(error) = outcome {
                tracing::error!(job.id = %job.id, %error, "could not fire a due run");
                first_error.get_or_insert(error);
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(written),
        }
    }

    /// The runs of one job due in `(from, now]`: the latest is fired if it is at most
    /// [`GRACE`] late; earlier ones (or a late latest) were missed and are reported once.
    async fn fire(
        &self,
        job: &Job,
        schedule: &Schedule,
        from: DateTime<Utc>,
        now: DateTime<Utc>,
        written: &mut Vec<HistoryItem>,
    ) -> Result<()> {
        let store = &self.inner().store;
        let mut due = Vec::new();
        let mut t = from;
        while due.len() < 100_000 {
            t = schedule.next_after(t);
            if t > now {
                break;
            }
            due.push(t);
        }
        let Some(&latest) = due.last() else {
            return Ok(());
        };
        let current = (now - latest <= GRACE).then_some(latest);
        let missed = if current.is_some() {
            &due[..due.len() - 1]
        } else {
            &due[..]
        };

        if let (Some(first), Some(&last)) = (missed.first(), missed.last()) {
            let mut item = self.new_run(job);
            item.status = HistoryStatus::Failed;
            item.details = if missed.len() == 1 {
                format!("missed the run due at {first} while Cairn was not running; it is not caught up")
            } else {
                format!(
                    "missed {} runs due from {first} to {last} while Cairn was not running; they are not caught up",
                    missed.len()
                )
            };
            item.end_time = Some(now);
            if store.claim_run(last, &item).await? {
                tracing::warn!(job.id = %job.id, "{}", item.details);
                written.push(item);
            }
        }
        if let Some(due_at) = current {
            let item = self.new_run(job);
            if store.claim_run(due_at, &item).await? {
                let scope = Scope::internal(
                    job.organization_id.clone(),
                    job.project_id.clone(),
                    "scheduler",
                );
                written.push(self.execute_run(&scope, job, item).await?);
            }
        }
        Ok(())
    }

    /// Tells the scheduler that jobs changed: its agenda is rebuilt before it next looks.
    pub(crate) fn wake_scheduler(&self) {
        self.inner().agenda.lock().expect("agenda").invalidate();
        self.inner().wake.notify_one();
    }

    /// Runs until `shutdown` completes: sleeps until the next due time (or a job change, or
    /// the periodic refresh), then fires what is due. Errors are logged and retried.
    pub async fn run_scheduler(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let clock = self.inner().clock.clone();
        loop {
            let next = match self.next_due().await {
                Ok(next) => next,
                Err(error) => {
                    tracing::error!(%error, "scheduler could not read the jobs; retrying");
                    None
                }
            };
            let sleep = async {
                match next {
                    Some(at) => clock.sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.inner().wake.notified() => continue,
                _ = tokio::time::sleep(REFRESH) => continue,
                _ = sleep => {}
            }
            if let Err(error) = self.run_due_jobs().await {
                tracing::error!(%error, "scheduler could not fire due runs");
            }
        }
    }
}
