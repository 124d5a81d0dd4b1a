//! The contract of jobs, their history and the claims of scheduled runs.

use super::{available_cluster, hourly_job, instance, instance_on_clock, Database};
use crate::testkit::{FakeEngine, ManualClock};
use cairn_model::{BackupStatus, CreateJobRequest, HistoryStatus, ScheduledBackupData};
use std::sync::Arc;

pub async fn a_job_its_history_and_its_pruned_backups_read_back_after_a_restart(db: &dyn Database) {
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(db, &engine).await;
    let cluster = available_cluster(&services, &scope).await;
    let request = CreateJobRequest {
        description: "My Hourly Backup".into(),
        schedule: "0 */1 * * *".into(),
        data: ScheduledBackupData {
            cluster_id: cluster.id.clone(),
            description: "{cluster} Hourly Backup {datetime:RFC3339}".into(),
            max_backup_count: 2,
        },
    };
    let job = services.create_job(&scope, &request).await.unwrap();
    let mut made = Vec::new();
    for _ in 0..3 {
        let run = services.run_job_now(&scope, &job.id).await.unwrap();
        made.push(run.linked_resource.unwrap());
        services.settle().await;
    }

    let (again, _) = instance(db, &engine).await;
    assert_eq!(again.get_job(&scope, &job.id).await.unwrap(), job);
    let history = again.job_history(&scope, &job.id).await.unwrap();
    assert_eq!(history.len(), 3);
    assert!(
        history.iter().all(|h| h.status == HistoryStatus::Succeeded),
        "{history:?}"
    );
    let kept: Vec<_> = again
        .list_backups(&scope)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(kept, made[1..]);
    let pruned = again.get_backup(&scope, &made[0]).await.unwrap();
    assert_eq!(pruned.status, BackupStatus::Deleted);
    assert_eq!(pruned.linked_resource.as_ref(), Some(&job.id));
}

pub async fn each_due_run_fires_once_across_instances_and_missed_ones_are_not_caught_up(
    db: &dyn Database,
) {
    let engine = Arc::new(FakeEngine::default());
    let clock = Arc::new(ManualClock::at("2026-11-24T09:30:00Z"));
    let (first, scope) = instance_on_clock(db, &engine, &clock).await;
    let (second, _) = instance_on_clock(db, &engine, &clock).await;
    let cluster = available_cluster(&first, &scope).await;
    let job = hourly_job(&first, &scope, &cluster).await;
    assert_eq!(
        first.next_due().await.unwrap(),
        Some("2026-11-24T10:00:00Z".parse().unwrap())
    );

    for hour in ["10", "11", "12"] {
        clock.set(format!("2026-11-24T{hour}:00:00Z").parse().unwrap());
        let (a, b) = tokio::join!(first.run_due_jobs(), second.run_due_jobs());
        assert_eq!(
            a.unwrap().len() + b.unwrap().len(),
            1,
            "exactly one instance fires the {hour}:00 run"
        );
        first.settle().await;
        second.settle().await;
    }
    // Down for five hours: one item says so, nothing is caught up.
    clock.set("2026-11-24T17:30:00Z".parse().unwrap());
    let written = second.run_due_jobs().await.unwrap();
    assert_eq!(written.len(), 1);
    assert!(
        written[0].details.starts_with("missed 5 runs"),
        "{}",
        written[0].details
    );

    let (restarted, _) = instance_on_clock(db, &engine, &clock).await;
    assert!(restarted.run_due_jobs().await.unwrap().is_empty());
    assert_eq!(
        restarted.next_due().await.unwrap(),
        Some("2026-11-24T18:00:00Z".parse().unwrap())
    );
    let history = restarted.job_history(&scope, &job.id).await.unwrap();
    let statuses: Vec<_> = history.iter().map(|h| h.status).collect();
    assert_eq!(
        statuses,
        [
            HistoryStatus::Succeeded,
            HistoryStatus::Succeeded,
            HistoryStatus::Succeeded,
            HistoryStatus::Failed
        ]
    );
    assert_eq!(restarted.list_backups(&scope).await.unwrap().len(), 3);
}

pub async fn history_reads_are_bounded_indexed_and_pruned_keeping_each_jobs_latest(
    db: &dyn Database,
) {
    let engine = Arc::new(FakeEngine::default());
    let clock = Arc::new(ManualClock::at("2026-11-24T09:30:00Z"));
    let (services, scope) = instance_on_clock(db, &engine, &clock).await;
    let cluster = available_cluster(&services, &scope).await;
    let job = hourly_job(&services, &scope, &cluster).await;
    let other = hourly_job(&services, &scope, &cluster).await;
    let mut runs = Vec::new();
    for _ in 0..5 {
        runs.push(services.run_job_now(&scope, &job.id).await.unwrap());
        services.settle().await;
        clock.advance(chrono::TimeDelta::days(30));
    }
    services.run_job_now(&scope, &other.id).await.unwrap();
    services.settle().await;
    let store = db.open().await;

    let latest = store.history(&job.id, 2).await.unwrap();
    assert_eq!(
        latest.iter().map(|h| &h.id).collect::<Vec<_>>(),
        [&runs[4].id, &runs[3].id],
        "newest first, at most the limit"
    );
    let project = store
        .project_history(&scope.project_id, None, 100)
        .await
        .unwrap();
    assert_eq!(project.len(), 6);
    assert!(project
        .windows(2)
        .all(|w| w[0].start_time >= w[1].start_time));
    let only = store
        .project_history(&scope.project_id, Some(&other.id), 100)
        .await
        .unwrap();
    assert_eq!(only.len(), 1);
    let last = store.last_runs(&scope.project_id).await.unwrap();
    assert_eq!(last[&job.id].id, runs[4].id);
    assert_eq!(last.len(), 2);
    let backup = runs[2].linked_resource.clone().unwrap();
    assert_eq!(
        store
            .run_of_backup(&job.id, &backup)
            .await
            .unwrap()
            .map(|h| h.id),
        Some(runs[2].id.clone())
    );
    assert_eq!(store.run_of_backup(&other.id, &backup).await.unwrap(), None);
    assert!(store.started_runs().await.unwrap().is_empty());

    // 150 days on, everything older than 90 days goes but each job's latest run.
    let before = crate::Clock::now(clock.as_ref()) - chrono::TimeDelta::days(90);
    let pruned = store.prune_history(before).await.unwrap();
    assert!(pruned >= 1, "{pruned}");
    let kept = store.history(&job.id, 100).await.unwrap();
    assert!(kept.iter().any(|h| h.id == runs[4].id));
    assert!(kept
        .iter()
        .all(|h| h.end_time.unwrap() >= before || h.id == runs[4].id));
    assert_eq!(store.history(&other.id, 100).await.unwrap().len(), 1);
}

pub async fn a_run_ends_once_and_a_late_end_does_not_overwrite_the_first(db: &dyn Database) {
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(db, &engine).await;
    let cluster = available_cluster(&services, &scope).await;
    let job = hourly_job(&services, &scope, &cluster).await;
    let store = db.open().await;
    let mut run = services.run_job_now(&scope, &job.id).await.unwrap();
    services.settle().await;
    let ended = store.history(&job.id, 1).await.unwrap().remove(0);
    assert_eq!(ended.status, HistoryStatus::Succeeded);

    run.status = HistoryStatus::Failed;
    run.details = "a late, wrong end".into();
    assert!(!store.end_run_if_started(&run).await.unwrap());
    assert_eq!(store.history(&job.id, 1).await.unwrap()[0], ended);
}

pub async fn an_edit_writes_a_jobs_settings_but_never_its_status_and_misses_a_deleted_job(
    db: &dyn Database,
) {
    use crate::lifecycle::JobEvent;
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(db, &engine).await;
    let cluster = available_cluster(&services, &scope).await;
    let job = hourly_job(&services, &scope, &cluster).await;
    // Read before a pause lands: its (stale) status must not be written back.
    let mut stale = job.clone();
    services
        .change_job(&scope, &job.id, JobEvent::Pause)
        .await
        .unwrap();
    stale.description = "renamed".into();
    stale.schedule = "30 6 * * *".into();
    stale.data.description = "{cluster} daily".into();
    stale.data.max_backup_count = 7;
    let edited_at: chrono::DateTime<chrono::Utc> = "2026-11-24T13:00:00Z".parse().unwrap();
    db.open().await.edit_job(&stale, edited_at).await.unwrap();

    let (again, _) = instance(db, &engine).await;
    let read = again.get_job(&scope, &job.id).await.unwrap();
    assert_eq!(
        read.status,
        cairn_model::JobStatus::Paused,
        "the pause stays"
    );
    assert_eq!(
        (read.description.as_str(), read.schedule.as_str()),
        ("renamed", "30 6 * * *")
    );
    assert_eq!(
        (read.data.description.as_str(), read.data.max_backup_count),
        ("{cluster} daily", 7)
    );
    assert_eq!(
        read.data.cluster_id, cluster.id,
        "the cluster never changes"
    );

    services
        .change_job(&scope, &job.id, JobEvent::Delete)
        .await
        .unwrap();
    let error = db
        .open()
        .await
        .edit_job(&stale, edited_at)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), crate::ErrorKind::NotFound);

    // A running job: a new schedule counts from the edit, in the same write; the same
    // schedule again leaves its start alone.
    let running = hourly_job(&services, &scope, &cluster).await;
    let store = db.open().await;
    let from = |store: Arc<dyn crate::Store>, id: cairn_model::JobId| async move {
        let scheduled = store.scheduled_jobs().await.unwrap();
        scheduled.into_iter().find(|(j, _)| j.id == id).unwrap().1
    };
    let mut daily = running.clone();
    daily.schedule = "0 3 * * *".into();
    store.edit_job(&daily, edited_at).await.unwrap();
    assert_eq!(from(store.clone(), running.id.clone()).await, edited_at);
    daily.description = "daily".into();
    let later = edited_at + chrono::Duration::hours(1);
    store.edit_job(&daily, later).await.unwrap();
    assert_eq!(from(store.clone(), running.id.clone()).await, edited_at);
}
