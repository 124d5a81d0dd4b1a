//! The contract of clusters, their locks and the instances' heartbeats.

use super::{available_cluster, instance, instance_on_clock, Database};
use crate::testkit::{FakeEngine, ManualClock, SnapshotBehaviour};
use crate::ErrorKind;
use cairn_model::BackupStatus;
use std::sync::Arc;

pub async fn of_200_concurrent_backups_from_two_instances_exactly_one_is_accepted(
    db: &dyn Database,
) {
    let engine = Arc::new(FakeEngine::default());
    let (first, scope) = instance(db, &engine).await;
    let (second, _) = instance(db, &engine).await;
    let cluster = available_cluster(&first, &scope).await;
    engine.snapshots(SnapshotBehaviour::Hold);
    let attempts: Vec<_> = (0..200)
        .map(|i| {
            let services = if i % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            let (scope, id) = (scope.clone(), cluster.id.clone());
            tokio::spawn(async move { services.create_backup(&scope, &id, "race").await })
        })
        .collect();
    let mut accepted = Vec::new();
    let mut conflicts = Vec::new();
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(backup) => accepted.push(backup),
            Err(error) => conflicts.push(error),
        }
    }
    assert_eq!(accepted.len(), 1, "exactly one accepted");
    assert_eq!(conflicts.len(), 199);
    let holder = format!("is locked by backup {} (manual)", accepted[0].id);
    for error in &conflicts {
        assert_eq!(error.kind(), ErrorKind::Conflict, "{error}");
        assert!(error.to_string().contains(&holder), "{error}");
    }
    assert_eq!(first.list_backups(&scope).await.unwrap().len(), 1);
    engine.release_snapshots();
    first.settle().await;
    second.settle().await;
}

pub async fn after_a_crash_creating_backups_are_defunct_and_unlocked(db: &dyn Database) {
    let engine = Arc::new(FakeEngine::default());
    let clock = Arc::new(ManualClock::at("2025-01-23T18:12:04Z"));
    let (services, scope) = instance_on_clock(db, &engine, &clock).await;
    let cluster = available_cluster(&services, &scope).await;
    engine.snapshots(SnapshotBehaviour::Hold);
    let backup = services
        .create_backup(&scope, &cluster.id, "interrupted")
        .await
        .unwrap();
    let store = db.open().await;
    assert_eq!(store.locks().await.unwrap().len(), 1);

    // Another instance starting while the first is alive leaves its backup alone.
    let (_, _) = instance_on_clock(db, &engine, &clock).await;
    assert_eq!(
        services
            .get_backup(&scope, &backup.id)
            .await
            .unwrap()
            .status,
        BackupStatus::Creating
    );

    // The first dies; started again past the lease, Cairn settles what it left.
    clock.advance(chrono::TimeDelta::minutes(2));
    let (restarted, _) = instance_on_clock(db, &engine, &clock).await;
    let settled = restarted.get_backup(&scope, &backup.id).await.unwrap();
    assert_eq!(settled.status, BackupStatus::Defunct);
    assert!(settled.failure_reason.unwrap().contains("Cairn stopped"));
    assert!(store.locks().await.unwrap().is_empty());
    engine.release_snapshots();
}

pub async fn instances_silent_for_a_day_are_forgotten(db: &dyn Database) {
    let store = db.open().await;
    let start: chrono::DateTime<chrono::Utc> = "2026-11-24T12:00:00Z".parse().unwrap();
    store.heartbeat("gone", start).await.unwrap();
    store.heartbeat("alive", start).await.unwrap();
    let later = start + chrono::TimeDelta::hours(25);
    store.heartbeat("alive", later).await.unwrap();
    assert_eq!(
        store.heartbeats().await.unwrap(),
        [("alive".to_string(), later)]
    );
}
