//! The scheduler (domain.md §4): it sleeps until the next time any job falls due (not a fixed
//! poll), then fires what is due. A run is claimed by a row unique on `(job, due time)`, so any
//! number of Cairn instances fire it exactly once. A due time found more than [`GRACE`] in the
//! past was missed (Cairn was not running): it is not caught up, and one failed history item
//! says which runs were missed.

use crate::error::Result;
use crate::services::{Scope, Services};
use cairn_model::schedule::Schedule;
use cairn_model::{HistoryItem, HistoryStatus};
use chrono::{DateTime, Utc};
use std::future::Future;

/// How late a due run may still start. Past this, it counts as missed.
pub const GRACE: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

impl Services {
    /// The next time any running job falls due.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        let jobs = self.inner().store.scheduled_jobs().await?;
        Ok(jobs
            .iter()
            .filter_map(|(job, from)| {
                Schedule::parse(&job.schedule)
                    .ok()
                    .map(|s| s.next_after(*from))
            })
            .min())
    }

    /// Fires every run due by now that no instance has claimed; answers the history items this
    /// instance wrote.
    pub async fn run_due_jobs(&self) -> Result<Vec<HistoryItem>> {
        let store = &self.inner().store;
        let now = self.inner().clock.now();
        let mut written = Vec::new();
        for (job, from) in store.scheduled_jobs().await? {
            let schedule = match Schedule::parse(&job.schedule) {
                Ok(schedule) => schedule,
                Err(error) => {
                    tracing::error!(job.id = %job.id, %error, "stored schedule does not parse");
                    continue;
                }
            };
            let mut due = Vec::new();
            let mut t = from;
            while due.len() < 100_000 {
                t = schedule.next_after(t);
                if t > now {
                    break;
                }
                due.push(t);
            }
            let Some(&latest) = due.last() else { continue };
            let current = (now - latest <= GRACE).then_some(latest);
            let missed = if current.is_some() {
                &due[..due.len() - 1]
            } else {
                &due[..]
            };

            if let (Some(first), Some(&last)) = (missed.first(), missed.last()) {
                let mut item = self.new_run(&job);
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
                let item = self.new_run(&job);
                if store.claim_run(due_at, &item).await? {
                    let scope = Scope {
                        organization_id: job.organization_id.clone(),
                        project_id: job.project_id.clone(),
                    };
                    written.push(self.execute_run(&scope, &job, item).await?);
                }
            }
        }
        Ok(written)
    }

    /// Tells a sleeping scheduler that jobs changed, so it recomputes its next wake-up.
    pub(crate) fn wake_scheduler(&self) {
        self.inner().wake.notify_one();
    }

    /// Runs until `shutdown` completes: sleeps until the next due time (or a job change), then
    /// fires what is due. Errors are logged and retried after a short pause.
    pub async fn run_scheduler(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let clock = self.inner().clock.clone();
        loop {
            let next = match self.next_due().await {
                Ok(next) => next,
                Err(error) => {
                    tracing::error!(%error, "scheduler could not read the jobs; retrying");
                    Some(clock.now() + chrono::TimeDelta::seconds(30))
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
                _ = sleep => {}
            }
            if let Err(error) = self.run_due_jobs().await {
                tracing::error!(%error, "scheduler could not fire due runs");
            }
        }
    }
}
