//! What monitoring reads: counters this instance keeps since it started (Prometheus counters
//! restart from zero with the process, as they should), and gauges read from the store when
//! asked (the last successful backup of each cluster and job, pending deliveries). The edge
//! renders them in Prometheus' text format.

use crate::error::Result;
pub use crate::held::{Counters, Histogram, BACKUP_SECONDS};
use crate::services::Services;
use cairn_model::schedule::Schedule;
use cairn_model::{JobId, JobType, ProjectId};
use chrono::{DateTime, Utc};

/// A running job: when it last succeeded (or, before its first success, when its schedule
/// started counting) and the longest gap between its runs, so that "no success within twice
/// the interval" is an alert rule.
#[derive(Debug, Clone, PartialEq)]
pub struct JobPulse {
    pub job_id: JobId,
    pub project_id: ProjectId,
    pub job_type: JobType,
    pub last_success: DateTime<Utc>,
    pub interval_seconds: i64,
}

/// Everything `/metrics` shows.
#[derive(Debug)]
pub struct MetricsReport {
    pub counters: Counters,
    /// Each cluster's newest successful backup.
    pub clusters: Vec<crate::ports::BackupSuccess>,
    pub jobs: Vec<JobPulse>,
    pub pending_deliveries: u64,
}

impl Services {
    /// What monitoring reads now.
    pub async fn metrics(&self) -> Result<MetricsReport> {
        let store = &self.inner().store;
        let counters = {
            let current = self.inner().metrics.0.lock().expect("metrics");
            Counters {
                backups: current.backups.clone(),
                backup_failures: current.backup_failures.clone(),
                backup_seconds: current.backup_seconds.clone(),
                stored_bytes: current.stored_bytes,
                new_bytes: current.new_bytes,
                job_runs: current.job_runs.clone(),
                verifications: current.verifications.clone(),
            }
        };
        let clusters = store.last_backup_successes().await?;
        let successes = store.last_successes().await?;
        let jobs = store
            .scheduled_jobs()
            .await?
            .into_iter()
            .filter_map(|(job, from)| {
                let schedule = Schedule::parse(&job.schedule).ok()?;
                let last_success = successes.get(&job.id).copied().unwrap_or(from);
                Some(JobPulse {
                    interval_seconds: longest_gap(&schedule, last_success),
                    last_success,
                    job_id: job.id,
                    project_id: job.project_id,
                    job_type: job.job_type,
                })
            })
            .collect();
        let pending_deliveries = store.count_pending_deliveries().await?;
        Ok(MetricsReport {
            counters,
            clusters,
            jobs,
            pending_deliveries,
        })
    }
}

/// The longest time between two consecutive runs of the next few after `from`: an uneven cron
/// (`0 */7 * * *`) is judged by its longest gap, so an alert on it never fires early.
fn longest_gap(schedule: &Schedule, from: DateTime<Utc>) -> i64 {
    let runs = schedule.upcoming(from, 12);
    runs.windows(2)
        .map(|pair| (pair[1] - pair[0]).num_seconds())
        .max()
        .unwrap_or(3600)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::fixture;

    #[test]
    fn a_histogram_counts_each_value_in_its_bucket_and_cumulates_for_prometheus() {
        let mut histogram = Histogram::new(&[1.0, 10.0]);
        for value in [0.5, 1.0, 3.0, 50.0] {
            histogram.observe(value);
        }
        assert_eq!(histogram.counts, [2, 1, 1]);
        assert_eq!(histogram.cumulative(), [2, 3, 4]);
        assert_eq!(histogram.count, 4);
        assert_eq!(histogram.sum, 54.5);
    }

    #[test]
    fn an_uneven_schedule_is_judged_by_its_longest_gap() {
        let from: DateTime<Utc> = "2026-12-01T00:30:00Z".parse().unwrap();
        assert_eq!(
            longest_gap(&Schedule::parse("0 */1 * * *").unwrap(), from),
            3600
        );
        // 00, 07, 14, 21 then 00 again: 3 h is the short gap, 7 h the long one.
        assert_eq!(
            longest_gap(&Schedule::parse("0 */7 * * *").unwrap(), from),
            7 * 3600
        );
    }

    #[tokio::test]
    async fn metrics_count_backups_by_outcome_and_say_when_each_cluster_last_backed_up() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        f.services
            .create_backup(&f.scope, &cluster.id, "good")
            .await
            .unwrap();
        f.services.settle().await;
        f.engine.snapshots(crate::testkit::SnapshotBehaviour::Fail(
            crate::EngineError::Unhealthy("node 2 does not answer".into()),
        ));
        f.services
            .create_backup(&f.scope, &cluster.id, "bad")
            .await
            .unwrap();
        f.services.settle().await;

        let report = f.services.metrics().await.unwrap();
        assert_eq!(report.counters.backups.get("available"), Some(&1));
        assert_eq!(report.counters.backups.get("defunct"), Some(&1));
        assert_eq!(report.counters.backup_failures.get("unhealthy"), Some(&1));
        assert_eq!(report.counters.backup_seconds.count, 1);
        assert_eq!(report.counters.stored_bytes, 100);
        assert_eq!(report.clusters.len(), 1);
        assert_eq!(report.clusters[0].cluster_id, cluster.id);
        assert_eq!(report.pending_deliveries, 0);
    }
}
