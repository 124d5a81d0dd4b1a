//! Flows: one-off backups, their locks, restores and failures.

use super::*;

#[tokio::test]
async fn a_one_off_backup_locks_the_cluster_until_its_snapshot_is_available() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    f.engine.snapshots(SnapshotBehaviour::Hold);
    let backup = f
        .services
        .create_backup(
            &f.scope,
            &cluster.id,
            "{cluster} #{index} {datetime:rfc3339}",
        )
        .await
        .unwrap();
    assert_eq!(backup.status, BackupStatus::Creating);
    assert_eq!(backup.description, "orders #1 2025-01-23T18:12:04Z");
    assert_eq!(backup.linked_resource, None);
    assert_eq!(backup.size_gb, 16);
    let shape = backup
        .source_shape
        .expect("the source cluster's shape is recorded");
    assert_eq!(
        (shape.topology, shape.instance_type, shape.projection_level),
        (
            cluster.topology,
            cluster.instance_type,
            cluster.projection_level
        )
    );
    assert_eq!(backup.created, backup.id.time().unwrap());
    let locks = f.store.locks().await.unwrap();
    assert_eq!(locks.len(), 1);
    assert_eq!(
        (locks[0].kind, locks[0].holder_id.as_str()),
        (LockKind::Backup, backup.id.as_str())
    );

    f.engine.release_snapshots();
    f.services.settle().await;
    let done = f.backup(&backup).await;
    assert_eq!(done.status, BackupStatus::Available);
    assert_eq!(done.available_node_count, 3);
    assert_eq!(done.bytes_stored, Some(100));
    assert!(
        f.store.locks().await.unwrap().is_empty(),
        "the lock is released"
    );
}

#[tokio::test]
async fn a_backup_on_a_locked_cluster_is_refused_naming_the_holder() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    f.engine.snapshots(SnapshotBehaviour::Hold);
    let first = f
        .services
        .create_backup(&f.scope, &cluster.id, "first")
        .await
        .unwrap();
    let error = f
        .services
        .create_backup(&f.scope, &cluster.id, "second")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conflict);
    assert_eq!(
        error.to_string(),
        format!(
            "cluster {} is locked by backup {} (manual)",
            cluster.id, first.id
        )
    );
    assert_eq!(
        f.services.list_backups(&f.scope).await.unwrap().len(),
        1,
        "nothing was recorded for the refused one"
    );
    f.engine.release_snapshots();
    f.services.settle().await;
    // Once the first is done, the cluster takes a backup again.
    f.services
        .create_backup(&f.scope, &cluster.id, "third")
        .await
        .unwrap();
    f.services.settle().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_200_concurrent_backup_requests_on_one_cluster_exactly_one_is_accepted() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    f.engine.snapshots(SnapshotBehaviour::Hold);
    let attempts: Vec<_> = (0..200)
        .map(|i| {
            let (services, scope, id) = (f.services.clone(), f.scope.clone(), cluster.id.clone());
            tokio::spawn(async move {
                services
                    .create_backup(&scope, &id, &format!("attempt {i}"))
                    .await
            })
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
    assert_eq!(accepted.len(), 1);
    assert_eq!(conflicts.len(), 199);
    let holder = format!("is locked by backup {} (manual)", accepted[0].id);
    assert!(conflicts
        .iter()
        .all(|e| e.kind() == ErrorKind::Conflict && e.to_string().contains(&holder)));
    f.engine.release_snapshots();
    f.services.settle().await;
}

#[tokio::test]
async fn a_failed_snapshot_is_defunct_with_its_reason_unlocks_and_notifies() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    f.engine
        .snapshots(SnapshotBehaviour::Fail(EngineError::Unhealthy(
            "node 2 is not responding".into(),
        )));
    let backup = f
        .services
        .create_backup(&f.scope, &cluster.id, "nightly")
        .await
        .unwrap();
    f.services.settle().await;
    let failed = f.backup(&backup).await;
    assert_eq!(failed.status, BackupStatus::Defunct);
    assert_eq!(
        failed.failure_reason.as_deref(),
        Some("the cluster is not healthy: node 2 is not responding")
    );
    assert!(f.store.locks().await.unwrap().is_empty());
    let sent = f.notifier.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].resource_id, backup.id.to_string());
    assert!(sent[0].message.contains("node 2 is not responding"));
}

#[tokio::test(start_paused = true)]
async fn a_snapshot_past_its_deadline_is_defunct_and_its_late_result_is_cleaned() {
    let f = fixture_with(Duration::from_secs(30)).await;
    let cluster = f.available_cluster().await;
    f.engine.snapshots(SnapshotBehaviour::Hold);
    let backup = f
        .services
        .create_backup(&f.scope, &cluster.id, "slow")
        .await
        .unwrap();
    f.services.settle().await; // the paused clock jumps to the deadline
    let late = f.backup(&backup).await;
    assert_eq!(late.status, BackupStatus::Defunct);
    assert_eq!(
        late.failure_reason.as_deref(),
        Some("the snapshot did not finish within 30 seconds")
    );
    assert_eq!(
        f.engine.deleted_snapshots(),
        std::slice::from_ref(&backup.id)
    );
    assert!(f.store.locks().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_index_counts_every_backup_ever_made_of_the_cluster() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let mut labels = Vec::new();
    for _ in 0..3 {
        let backup = f
            .services
            .create_backup(&f.scope, &cluster.id, "{index} / {index:hex}")
            .await
            .unwrap();
        f.services.settle().await;
        labels.push(backup.description);
    }
    assert_eq!(labels, ["1 / 1", "2 / 2", "3 / 3"]);
}

#[tokio::test]
async fn a_bad_label_is_refused_before_anything_is_locked_or_stored() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let error = f
        .services
        .create_backup(&f.scope, &cluster.id, "{nope}")
        .await
        .unwrap_err();
    let Error::Invalid(fields) = error else {
        panic!("expected a field error")
    };
    assert_eq!(
        fields["description"],
        "unknown variable 'nope' in {nope}: use index, cluster or datetime"
    );
    assert!(f.store.locks().await.unwrap().is_empty());
    assert!(f.services.list_backups(&f.scope).await.unwrap().is_empty());
}

#[tokio::test]
async fn without_an_engine_backups_are_unavailable_not_faked() {
    let store = Arc::new(InMemoryStore::default());
    let services = Services::new(
        store,
        Arc::new(ManualClock::at("2026-01-01T00:00:00Z")),
        SiteConfig::default(),
    );
    let scope = crate::Scope::trusted(services.start().await.unwrap());
    let id = cairn_model::ClusterId::parse("c1eut65o0aeu6ojco7a0").unwrap();
    let error = services.create_backup(&scope, &id, "x").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unavailable);
}

#[tokio::test]
async fn after_a_crash_creating_backups_are_defunct_and_their_locks_released() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let other = f.available_cluster().await;
    f.engine.snapshots(SnapshotBehaviour::Hold);
    let backup = f
        .services
        .create_backup(&f.scope, &cluster.id, "interrupted")
        .await
        .unwrap();
    // A stray lock of another dead operation, too.
    f.store
        .acquire_lock(&ClusterLock {
            cluster_id: other.id.clone(),
            kind: LockKind::DiskExpansion,
            holder_id: "gone".into(),
            job_id: None,
            acquired_at: other.created,
            owner: "a-dead-instance".into(),
        })
        .await
        .unwrap();

    // "Restart": new services over the same store, the old ones' work never finishes.
    let restarted = f.another_instance(Arc::new(ManualClock::at("2025-01-23T19:00:00Z")));
    restarted.start().await.unwrap();
    let settled = restarted.get_backup(&f.scope, &backup.id).await.unwrap();
    assert_eq!(settled.status, BackupStatus::Defunct);
    assert_eq!(
        settled.failure_reason.as_deref(),
        Some("Cairn stopped while this backup was being taken")
    );
    assert!(f.store.locks().await.unwrap().is_empty());
    assert!(
        f.engine.deleted_snapshots().contains(&backup.id),
        "its partial snapshot is cleaned"
    );
    f.engine.release_snapshots();
}

#[tokio::test]
async fn a_backup_restores_into_a_new_cluster_of_another_topology() {
    let f = fixture().await;
    let source = f.available_cluster().await;
    let backup = f
        .services
        .create_backup(&f.scope, &source.id, "nightly")
        .await
        .unwrap();
    f.services.settle().await;
    let mut request = f.request("local-1").await;
    request.description = "restored".into();
    request.topology = Topology::SingleNode;
    request.disk_size_gb = 32;
    request.source_backup_id = Some(backup.id.clone());
    let restored = f.services.create_cluster(&f.scope, &request).await.unwrap();
    assert_ne!(restored.id, source.id);
    assert_eq!(restored.source_backup_id.as_ref(), Some(&backup.id));
    assert_eq!(restored.status, ClusterStatus::Provisioning);
    f.services.settle().await;
    assert_eq!(
        f.services
            .get_cluster(&f.scope, &restored.id)
            .await
            .unwrap()
            .status,
        ClusterStatus::Available
    );
    assert!(f
        .engine
        .provisioned()
        .contains(&(restored.id.clone(), Some(backup.id.clone()))));
    assert_eq!(
        f.services.get_cluster(&f.scope, &source.id).await.unwrap(),
        source,
        "the source is untouched"
    );
}

#[tokio::test]
async fn a_restore_breaking_two_rules_gets_both_field_errors_and_creates_nothing() {
    let f = fixture().await;
    let source = f.available_cluster().await;
    let backup = f
        .services
        .create_backup(&f.scope, &source.id, "nightly")
        .await
        .unwrap();
    f.services.settle().await;
    let mut request = f.request("local-2").await;
    request.disk_size_gb = 8;
    request.source_backup_id = Some(backup.id.clone());
    let clusters_before = f.services.list_clusters(&f.scope).await.unwrap().len();
    let Error::Invalid(fields) = f
        .services
        .create_cluster(&f.scope, &request)
        .await
        .unwrap_err()
    else {
        panic!("expected field errors");
    };
    assert_eq!(
        fields.keys().collect::<Vec<_>>(),
        ["diskSizeGb", "networkId"]
    );
    assert_eq!(
        f.services.list_clusters(&f.scope).await.unwrap().len(),
        clusters_before
    );
}

#[tokio::test]
async fn a_backup_being_deleted_cannot_be_restored() {
    let f = fixture().await;
    let source = f.available_cluster().await;
    let backup = f
        .services
        .create_backup(&f.scope, &source.id, "nightly")
        .await
        .unwrap();
    f.services.settle().await;
    let mut deleting = f.backup(&backup).await;
    deleting.status = BackupStatus::Deleting;
    f.store.update_backup(&deleting).await.unwrap();
    let mut request = f.request("local-1").await;
    request.source_backup_id = Some(backup.id.clone());
    let error = f
        .services
        .create_cluster(&f.scope, &request)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conflict);
    assert_eq!(
        error.to_string(),
        format!(
            "backup {} is being deleted and cannot be restored",
            backup.id
        )
    );
}

#[tokio::test]
async fn a_failed_provisioning_leaves_a_defunct_cluster_and_a_notification() {
    let f = fixture().await;
    f.engine
        .fail_provisioning(EngineError::Failed("no free port".into()));
    let cluster = f
        .services
        .create_cluster(&f.scope, &f.request("local-1").await)
        .await
        .unwrap();
    f.services.settle().await;
    assert_eq!(
        f.services
            .get_cluster(&f.scope, &cluster.id)
            .await
            .unwrap()
            .status,
        ClusterStatus::Defunct
    );
    assert!(f.notifier.sent()[0].message.contains("no free port"));
}

#[tokio::test]
async fn a_list_read_while_a_backup_is_being_written_is_not_kept_once_the_write_returns() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    f.engine.snapshots(SnapshotBehaviour::Hold);
    // A reader reads the (empty) list and is slow to answer…
    let (read, answer) = f.store.pause_next_backups();
    let reader = tokio::spawn({
        let (services, scope) = (f.services.clone(), f.scope.clone());
        async move { services.list_backups(&scope).await.unwrap() }
    });
    read.await.unwrap();
    // …meanwhile a backup is written, and the reader answers before the writer returns.
    let (written, finish) = f.store.pause_next_insert_backup();
    let writer = tokio::spawn({
        let (services, scope, id) = (f.services.clone(), f.scope.clone(), cluster.id.clone());
        async move {
            services
                .create_backup(&scope, &id, "{cluster}")
                .await
                .unwrap()
        }
    });
    written.await.unwrap();
    answer.send(()).unwrap();
    assert!(
        reader.await.unwrap().is_empty(),
        "the reader saw the list before the write"
    );
    finish.send(()).unwrap();
    let backup = writer.await.unwrap();
    // Whoever wrote reads it back at once: the reader's old list was not kept.
    let listed = f.services.list_backups(&f.scope).await.unwrap();
    assert!(
        listed.iter().any(|b| b.id == backup.id),
        "a backup created through this instance is missing from its list: {listed:?}"
    );
    f.engine.release_snapshots();
    f.services.settle().await;
}
