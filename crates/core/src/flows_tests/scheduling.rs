//! Flows: the scheduler, on a simulated clock.

use super::*;
use crate::lifecycle::JobEvent;
use crate::testkit::ManualClock;
use crate::{Clock, JobStore};
use cairn_model::{CreateJobRequest, HistoryStatus, Job, ScheduledBackupData};
use chrono::{DateTime, TimeDelta, Utc};

struct Sim {
    f: Fixture,
    clock: Arc<ManualClock>,
}

async fn sim(start: &str) -> Sim {
    let store = Arc::new(InMemoryStore::default());
    let engine = Arc::new(FakeEngine::default());
    let notifier = Arc::new(RecordingNotifier::default());
    let clock = Arc::new(ManualClock::at(start));
    let services = Services::builder(store.clone(), clock.clone(), SiteConfig::default())
        .engine(engine.clone())
        .notifier(notifier.clone())
        .build();
    let scope = crate::Scope::trusted(services.start().await.unwrap());
    Sim {
        f: Fixture {
            services,
            store,
            engine,
            notifier,
            scope,
            clock: clock.clone(),
        },
        clock,
    }
}

impl Sim {
    async fn job(&self, cluster: &Cluster, description: &str, schedule: &str, keep: u32) -> Job {
        let request = CreateJobRequest {
            description: description.into(),
            schedule: schedule.into(),
            data: ScheduledBackupData {
                cluster_id: cluster.id.clone(),
                description: format!("{description} {{index}}"),
                max_backup_count: keep,
            },
        };
        self.f
            .services
            .create_job(&self.f.scope, &request)
            .await
            .unwrap()
    }

    /// Moves the clock to each due time up to `end`, fires what is due while snapshots are
    /// still running (as real ones would be), then lets them finish; calls `after` each tick.
    async fn run_until(
        &self,
        end: DateTime<Utc>,
        mut after: impl FnMut(DateTime<Utc>, &[cairn_model::Backup]),
    ) {
        while let Some(due) = self.f.services.next_due().await.unwrap() {
            if due > end {
                break;
            }
            self.clock.set(due);
            self.f.engine.snapshots(SnapshotBehaviour::Hold);
            self.f.services.run_due_jobs().await.unwrap();
            self.f.engine.release_snapshots();
            self.f.services.settle().await;
            let backups = self.f.services.list_backups(&self.f.scope).await.unwrap();
            after(due, &backups);
        }
        self.clock.set(end);
    }
}

fn oldest_age(now: DateTime<Utc>, backups: &[cairn_model::Backup], job: &Job) -> Option<TimeDelta> {
    backups
        .iter()
        .filter(|b| {
            b.linked_resource.as_ref() == Some(&job.id) && b.status == BackupStatus::Available
        })
        .map(|b| now - b.created)
        .max()
}

#[tokio::test]
async fn the_seed_example_hourly_and_weekly_jobs_prune_independently_over_six_weeks() {
    // 2026-11-23 is a Monday.
    let s = sim("2026-11-23T00:30:00Z").await;
    let cluster = s.f.available_cluster().await;
    let weekly = s.job(&cluster, "weekly", "0 12 * * 1", 4).await;
    let hourly = s.job(&cluster, "hourly", "0 * * * *", 4).await;
    let start = s.clock.now();
    let end = start + TimeDelta::weeks(6);
    let mut worst_hourly_age = TimeDelta::zero();
    s.run_until(end, |now, backups| {
        if let Some(age) = oldest_age(now, backups, &hourly) {
            worst_hourly_age = worst_hourly_age.max(age);
        }
    })
    .await;

    assert!(
        worst_hourly_age <= TimeDelta::hours(4),
        "hourly backups got {worst_hourly_age} old"
    );
    let backups = s.f.services.list_backups(&s.f.scope).await.unwrap();
    let weekly_age = oldest_age(end, &backups, &weekly).unwrap();
    assert!(
        weekly_age >= TimeDelta::days(21) && weekly_age <= TimeDelta::days(28),
        "the weekly job's oldest backup is about a month old, not {weekly_age}"
    );
    let kept = |job: &Job| {
        backups
            .iter()
            .filter(|b| b.linked_resource.as_ref() == Some(&job.id))
            .count()
    };
    assert_eq!((kept(&weekly), kept(&hourly)), (4, 4));

    // Every Monday at 12:00 both fall due; the weekly job (older) starts first and holds
    // the lock, so the hourly run fails with "locked" in its history.
    // Every run, past what the history shows (its latest 1000).
    let hourly_history = s.f.store.history(&hourly.id, u32::MAX).await.unwrap();
    let locked: Vec<_> = hourly_history
        .iter()
        .filter(|h| h.status == HistoryStatus::Failed)
        .collect();
    assert_eq!(locked.len(), 6, "one collision a week");
    for item in &locked {
        assert!(
            item.details.contains("is locked by backup"),
            "{}",
            item.details
        );
        assert!(
            item.details.contains(&format!("(job {})", weekly.id)),
            "{}",
            item.details
        );
        assert_eq!(item.start_time.format("%a %H:%M").to_string(), "Mon 12:00");
    }
    assert_eq!(hourly_history.len(), 6 * 7 * 24);
    let weekly_history =
        s.f.services
            .job_history(&s.f.scope, &weekly.id)
            .await
            .unwrap();
    assert_eq!(weekly_history.len(), 6);
    assert!(weekly_history
        .iter()
        .all(|h| h.status == HistoryStatus::Succeeded));
}

#[tokio::test]
async fn runs_missed_while_cairn_was_down_are_recorded_once_and_not_caught_up() {
    let s = sim("2026-11-24T09:30:00Z").await;
    let cluster = s.f.available_cluster().await;
    let job = s.job(&cluster, "hourly", "0 * * * *", 10).await;
    // Down from 09:30 to 14:30: the runs due at 10, 11, 12, 13 and 14 o'clock are missed.
    s.clock.set("2026-11-24T14:30:00Z".parse().unwrap());
    let written = s.f.services.run_due_jobs().await.unwrap();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].status, HistoryStatus::Failed);
    assert!(
        written[0].details.starts_with(
            "missed 5 runs due from 2026-11-24 10:00:00 UTC to 2026-11-24 14:00:00 UTC"
        ),
        "{}",
        written[0].details
    );
    assert!(
        s.f.services
            .list_backups(&s.f.scope)
            .await
            .unwrap()
            .is_empty(),
        "nothing caught up"
    );
    // Firing again finds nothing new; the next run is the next hour's.
    assert!(s.f.services.run_due_jobs().await.unwrap().is_empty());
    assert_eq!(
        s.f.services.next_due().await.unwrap(),
        Some("2026-11-24T15:00:00Z".parse().unwrap())
    );
    let _ = job;
}

#[tokio::test]
async fn a_run_a_few_seconds_late_still_runs() {
    let s = sim("2026-11-24T09:30:00Z").await;
    let cluster = s.f.available_cluster().await;
    s.job(&cluster, "hourly", "0 * * * *", 10).await;
    s.clock.set("2026-11-24T10:00:20Z".parse().unwrap());
    let written = s.f.services.run_due_jobs().await.unwrap();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].status, HistoryStatus::Started);
    s.f.services.settle().await;
}

#[tokio::test]
async fn resuming_a_paused_job_never_fires_the_runs_it_slept_through() {
    let s = sim("2026-11-24T09:30:00Z").await;
    let cluster = s.f.available_cluster().await;
    let job = s.job(&cluster, "hourly", "0 * * * *", 10).await;
    s.f.services
        .change_job(&s.f.scope, &job.id, JobEvent::Pause)
        .await
        .unwrap();
    s.clock.set("2026-11-24T13:10:00Z".parse().unwrap());
    assert!(
        s.f.services.run_due_jobs().await.unwrap().is_empty(),
        "a paused job does not run"
    );
    s.f.services
        .change_job(&s.f.scope, &job.id, JobEvent::Resume)
        .await
        .unwrap();
    assert!(
        s.f.services.run_due_jobs().await.unwrap().is_empty(),
        "no missed run fires, none is reported"
    );
    assert_eq!(
        s.f.services.next_due().await.unwrap(),
        Some("2026-11-24T14:00:00Z".parse().unwrap())
    );
}

#[tokio::test]
async fn two_instances_fire_each_due_run_exactly_once() {
    let s = sim("2026-11-24T09:30:00Z").await;
    let cluster = s.f.available_cluster().await;
    let job = s.job(&cluster, "hourly", "0 * * * *", 10).await;
    let other = s.f.another_instance(s.clock.clone());
    s.clock.set("2026-11-24T10:00:00Z".parse().unwrap());
    let (a, b) = tokio::join!(s.f.services.run_due_jobs(), other.run_due_jobs());
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 1);
    s.f.services.settle().await;
    other.settle().await;
    assert_eq!(
        s.f.services
            .job_history(&s.f.scope, &job.id)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn the_scheduler_sleeps_until_the_next_due_time_and_then_fires() {
    let s = sim("2026-11-24T09:30:00Z").await;
    let cluster = s.f.available_cluster().await;
    let job = s.job(&cluster, "hourly", "0 * * * *", 10).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let services = s.f.services.clone();
    let scheduler = tokio::spawn(async move {
        services
            .run_scheduler(async {
                let _ = stopped.await;
            })
            .await;
    });
    tokio::task::yield_now().await;
    assert!(s
        .f
        .services
        .job_history(&s.f.scope, &job.id)
        .await
        .unwrap()
        .is_empty());
    s.clock.set("2026-11-24T10:00:00Z".parse().unwrap());
    // Wait (in real time, briefly) for the woken scheduler to record the run.
    for _ in 0..200 {
        if !s
            .f
            .services
            .job_history(&s.f.scope, &job.id)
            .await
            .unwrap()
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        s.f.services
            .job_history(&s.f.scope, &job.id)
            .await
            .unwrap()
            .len(),
        1
    );
    stop.send(()).unwrap();
    scheduler.await.unwrap();
    s.f.services.settle().await;
}
