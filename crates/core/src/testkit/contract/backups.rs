//! The contract of backups: what they read back, what a patch or a verification writes.

use super::{available_cluster, instance, Database};
use crate::testkit::{FakeEngine, SnapshotBehaviour};
use cairn_model::{BackupStatus, ClusterStatus};
use std::sync::Arc;

pub async fn a_cluster_and_its_backup_read_back_exactly_after_a_restart(db: &dyn Database) {
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(db, &engine).await;
    let cluster = available_cluster(&services, &scope).await;
    assert_eq!(cluster.status, ClusterStatus::Available);
    assert!(cluster.addresses.grpc.starts_with("esdb://"));
    let backup = services
        .create_backup(&scope, &cluster.id, "{cluster} #{index}")
        .await
        .unwrap();
    services.settle().await;
    let done = services.get_backup(&scope, &backup.id).await.unwrap();
    assert_eq!(done.status, BackupStatus::Available);
    assert_eq!(done.description, "orders #1");

    let (again, _) = instance(db, &engine).await;
    assert_eq!(
        again.get_cluster(&scope, &cluster.id).await.unwrap(),
        cluster
    );
    assert_eq!(again.get_backup(&scope, &backup.id).await.unwrap(), done);
    assert_eq!(again.list_backups(&scope).await.unwrap(), [done]);
}

pub async fn a_patch_writes_only_its_fields_and_a_verification_survives_later_updates(
    db: &dyn Database,
) {
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(db, &engine).await;
    let cluster = available_cluster(&services, &scope).await;
    let store = db.open().await;
    let health = crate::ClusterPatch {
        health: Some(cairn_model::ClusterHealth::Degraded),
        ..Default::default()
    };
    assert!(store.patch_cluster(&cluster.id, &health).await.unwrap());
    let rename = crate::ClusterPatch {
        description: Some("renamed".into()),
        server_version: Some(("25.0".into(), "25.0.1".into())),
        ..Default::default()
    };
    assert!(store.patch_cluster(&cluster.id, &rename).await.unwrap());
    let stored = store
        .cluster(&scope.project_id, &cluster.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.health, cairn_model::ClusterHealth::Degraded, "kept");
    assert_eq!(stored.description, "renamed");
    assert_eq!(
        (
            stored.server_version.as_str(),
            stored.server_version_tag.as_str()
        ),
        ("25.0", "25.0.1")
    );
    assert_eq!(stored.addresses, cluster.addresses, "untouched");
    assert!(stored.protected, "untouched");
    let unknown = cairn_model::ClusterId::parse("c1ev3l5o0aeu6ojco7b0").unwrap();
    assert!(!store.patch_cluster(&unknown, &rename).await.unwrap());

    let backup = services
        .create_backup(&scope, &cluster.id, "verified")
        .await
        .unwrap();
    services.settle().await;
    let verification = cairn_model::Verification {
        at: "2025-01-23T19:00:00Z".parse().unwrap(),
        duration_ms: 1234,
        ok: true,
        detail: "6 files read back".into(),
    };
    assert!(store
        .set_verification(&backup.id, &verification)
        .await
        .unwrap());
    let mut later = store
        .backup(&scope.project_id, &backup.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        later.contents,
        Some(cairn_model::ClusterContents {
            event_count: 42,
            last_position: 4200
        })
    );
    assert!(later.finished.is_some());
    later.verification = None;
    later.status = BackupStatus::Deleting;
    store.update_backup(&later).await.unwrap();
    let read = store
        .backup(&scope.project_id, &backup.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        read.verification,
        Some(verification),
        "written on its own, never undone"
    );
    assert_eq!(read.status, BackupStatus::Deleting);
}

pub async fn monitoring_reads_each_clusters_newest_success_and_the_pending_deliveries(
    db: &dyn Database,
) {
    let engine = Arc::new(FakeEngine::default());
    let (services, scope) = instance(db, &engine).await;
    let cluster = available_cluster(&services, &scope).await;
    let store = db.open().await;
    assert!(store.last_backup_successes().await.unwrap().is_empty());
    let mut newest = None;
    for _ in 0..2 {
        newest = Some(
            services
                .create_backup(&scope, &cluster.id, "b")
                .await
                .unwrap(),
        );
        services.settle().await;
    }
    engine.snapshots(SnapshotBehaviour::Fail(crate::EngineError::Failed(
        "no".into(),
    )));
    services
        .create_backup(&scope, &cluster.id, "defunct")
        .await
        .unwrap();
    services.settle().await;
    let successes = store.last_backup_successes().await.unwrap();
    assert_eq!(successes.len(), 1);
    assert_eq!(successes[0].cluster_id, cluster.id);
    assert_eq!(successes[0].created, newest.unwrap().created);
    assert_eq!(successes[0].bytes_stored, Some(100));
    assert_eq!(store.count_pending_deliveries().await.unwrap(), 0);
}
