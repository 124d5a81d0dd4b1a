//! Flows: cluster_recovery.

use super::*;

#[tokio::test]
async fn a_cluster_still_provisioning_cannot_be_backed_up() {
    let f = fixture().await;
    let cluster = f
        .services
        .create_cluster(&f.scope, &f.request("local-1").await)
        .await
        .unwrap();
    let error = f
        .services
        .create_backup(&f.scope, &cluster.id, "too soon")
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("cluster {} is locked: it is being provisioned", cluster.id)
    );
    let locks = f.store.locks().await.unwrap();
    assert_eq!(locks.len(), 1, "the refused backup left no lock of its own");
    assert_eq!(locks[0].kind, LockKind::Provisioning);
    f.services.settle().await;
    assert!(
        f.store.locks().await.unwrap().is_empty(),
        "provisioning releases its lock when done"
    );

    f.engine
        .fail_provisioning(EngineError::Failed("no room".into()));
    let defunct = f
        .services
        .create_cluster(&f.scope, &f.request("local-1").await)
        .await
        .unwrap();
    f.services.settle().await;
    let error = f
        .services
        .create_backup(&f.scope, &defunct.id, "x")
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "cluster {} is defunct: only an available cluster can be backed up",
            defunct.id
        )
    );
    assert!(
        f.store.locks().await.unwrap().is_empty(),
        "the lock taken to check is given back"
    );
}

#[tokio::test]
async fn clusters_left_mid_operation_by_a_crash_are_settled_on_start() {
    let f = fixture().await;
    let expanding = f.available_cluster().await;
    let deleting = f.available_cluster().await;
    let provisioning = f
        .services
        .create_cluster(&f.scope, &f.request("local-1").await)
        .await
        .unwrap();
    for (cluster, status) in [
        (&expanding, ClusterStatus::ExpandingDisks),
        (&deleting, ClusterStatus::Deleting),
    ] {
        let patch = crate::ClusterPatch::status(status);
        f.store.patch_cluster(&cluster.id, &patch).await.unwrap();
    }
    let restarted = f.another_instance(Arc::new(ManualClock::at("2025-01-23T19:00:00Z")));
    restarted.start().await.unwrap();
    for (id, expected) in [
        (&expanding.id, ClusterStatus::Available),
        (&deleting.id, ClusterStatus::Deleted),
        (&provisioning.id, ClusterStatus::Defunct),
    ] {
        assert_eq!(
            restarted.get_cluster(&f.scope, id).await.unwrap().status,
            expected
        );
    }
    assert!(f
        .engine
        .changes()
        .contains(&(deleting.id.clone(), crate::ClusterChange::Delete)));
    f.services.settle().await;
}
