//! Flows: changes to clusters.

use super::*;
use crate::ClusterChange;

#[tokio::test]
async fn a_disk_expansion_locks_the_cluster_against_backups_until_it_ends() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let expanding = f
        .services
        .expand_disk(&f.scope, &cluster.id, 64)
        .await
        .unwrap();
    assert_eq!(expanding.status, ClusterStatus::ExpandingDisks);
    let error = f
        .services
        .create_backup(&f.scope, &cluster.id, "x")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conflict);
    assert!(
        error.to_string().contains("is locked by disk expansion"),
        "{error}"
    );
    f.services.settle().await;
    let done = f.services.get_cluster(&f.scope, &cluster.id).await.unwrap();
    assert_eq!(
        (done.status, done.disk_size_gb),
        (ClusterStatus::Available, 64)
    );
    assert!(f.store.locks().await.unwrap().is_empty());
    assert_eq!(
        f.engine.changes(),
        [(
            cluster.id.clone(),
            ClusterChange::ExpandDisk { disk_size_gb: 64 }
        )]
    );
}

#[tokio::test]
async fn a_disk_never_shrinks_nor_grows_past_its_type() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    for (size, message) in [
        (16, "must be larger than the current 16 GB"),
        (5000, "a local-ssd disk is at most 4096 GB"),
    ] {
        let Error::Invalid(fields) = f
            .services
            .expand_disk(&f.scope, &cluster.id, size)
            .await
            .unwrap_err()
        else {
            panic!("expected a field error")
        };
        assert!(
            fields["diskSizeGb"].starts_with(message),
            "{}",
            fields["diskSizeGb"]
        );
    }
}

#[tokio::test]
async fn a_cluster_being_backed_up_cannot_be_resized_or_deleted() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    f.engine.snapshots(SnapshotBehaviour::Hold);
    let backup = f
        .services
        .create_backup(&f.scope, &cluster.id, "running")
        .await
        .unwrap();
    let holder = format!("is locked by backup {} (manual)", backup.id);
    let resize = f
        .services
        .resize_cluster(&f.scope, &cluster.id, InstanceType::M32)
        .await
        .unwrap_err();
    assert!(resize.to_string().contains(&holder), "{resize}");
    let delete = f
        .services
        .delete_cluster(&f.scope, &cluster.id)
        .await
        .unwrap_err();
    assert!(delete.to_string().contains(&holder), "{delete}");
    assert_eq!(
        f.services
            .get_cluster(&f.scope, &cluster.id)
            .await
            .unwrap()
            .status,
        ClusterStatus::Available
    );
    f.engine.release_snapshots();
    f.services.settle().await;
}

#[tokio::test]
async fn a_protected_cluster_refuses_deletion_and_a_deleted_one_keeps_its_backups() {
    let f = fixture().await;
    let mut request = f.request("local-1").await;
    request.protected = true;
    let protected = f.services.create_cluster(&f.scope, &request).await.unwrap();
    f.services.settle().await;
    let error = f
        .services
        .delete_cluster(&f.scope, &protected.id)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "cluster {} is protected: turn protection off before deleting it",
            protected.id
        )
    );

    let cluster = f.available_cluster().await;
    let backup = f
        .services
        .create_backup(&f.scope, &cluster.id, "last words")
        .await
        .unwrap();
    f.services.settle().await;
    assert_eq!(
        f.services
            .delete_cluster(&f.scope, &cluster.id)
            .await
            .unwrap()
            .status,
        ClusterStatus::Deleting
    );
    f.services.settle().await;
    assert_eq!(
        f.services
            .get_cluster(&f.scope, &cluster.id)
            .await
            .unwrap()
            .status,
        ClusterStatus::Deleted
    );
    assert!(!f
        .services
        .list_clusters(&f.scope)
        .await
        .unwrap()
        .iter()
        .any(|c| c.id == cluster.id));
    assert_eq!(
        f.services
            .get_backup(&f.scope, &backup.id)
            .await
            .unwrap()
            .status,
        BackupStatus::Available
    );
}

#[tokio::test]
async fn an_upgrade_only_goes_to_a_newer_known_version() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    for (version, message) in [
        ("23.10", "must be newer than the current 24.10"),
        ("24.10", "must be newer"),
        ("26.1", "unknown server version '26.1'"),
    ] {
        let Error::Invalid(fields) = f
            .services
            .upgrade_cluster(&f.scope, &cluster.id, version)
            .await
            .unwrap_err()
        else {
            panic!("expected a field error for {version}")
        };
        assert!(
            fields["serverVersion"].starts_with(message),
            "{version}: {}",
            fields["serverVersion"]
        );
    }
    f.services
        .upgrade_cluster(&f.scope, &cluster.id, "25.0")
        .await
        .unwrap();
    f.services.settle().await;
    let upgraded = f.services.get_cluster(&f.scope, &cluster.id).await.unwrap();
    assert_eq!(
        (
            upgraded.server_version.as_str(),
            upgraded.server_version_tag.as_str()
        ),
        ("25.0", "25.0.1")
    );
}

#[tokio::test]
async fn renaming_or_protecting_a_cluster_being_upgraded_is_refused_naming_the_upgrade() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    f.engine.changes_gate.hold();
    f.services
        .upgrade_cluster(&f.scope, &cluster.id, "25.0")
        .await
        .unwrap();

    for (description, protected) in [(None, Some(true)), (Some("renamed"), None)] {
        let error = f
            .services
            .update_cluster(&f.scope, &cluster.id, description, protected)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Conflict);
        assert!(error.to_string().contains("locked by upgrade"), "{error}");
    }
    f.engine.changes_gate.release();
    f.services.settle().await;

    let upgraded = f.services.get_cluster(&f.scope, &cluster.id).await.unwrap();
    assert_eq!(upgraded.server_version, "25.0");
    assert!(!upgraded.protected);
    let protected = f
        .services
        .update_cluster(&f.scope, &cluster.id, None, Some(true))
        .await
        .unwrap();
    assert!(protected.protected && protected.server_version == "25.0");
    assert!(f.store.locks().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_health_probe_does_not_undo_a_rename_made_while_it_ran() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    f.engine
        .set_health(&cluster.id, Ok(ClusterHealth::Degraded));
    f.engine.probes_gate.hold();
    let probing = {
        let services = f.services.clone();
        tokio::spawn(async move { services.probe_clusters().await })
    };
    while f.engine.probes_gate.arrived() == 0 {
        tokio::task::yield_now().await;
    }

    f.services
        .update_cluster(&f.scope, &cluster.id, Some("renamed"), Some(true))
        .await
        .unwrap();
    f.engine.probes_gate.release();
    assert_eq!(probing.await.unwrap().unwrap(), 1);

    let stored = f.services.get_cluster(&f.scope, &cluster.id).await.unwrap();
    assert_eq!(stored.health, ClusterHealth::Degraded);
    assert_eq!(stored.description, "renamed");
    assert!(stored.protected);
}

#[tokio::test]
async fn a_failed_change_leaves_the_cluster_as_it_was_unlocked_and_notifies() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    f.engine
        .snapshots(SnapshotBehaviour::Fail(EngineError::Failed(
            "node 1 refused to restart".into(),
        )));
    f.services
        .resize_cluster(&f.scope, &cluster.id, InstanceType::M16)
        .await
        .unwrap();
    f.services.settle().await;
    let after = f.services.get_cluster(&f.scope, &cluster.id).await.unwrap();
    assert_eq!(
        (after.status, after.instance_type),
        (ClusterStatus::Available, InstanceType::C4)
    );
    assert!(f.store.locks().await.unwrap().is_empty());
    assert!(f
        .notifier
        .sent()
        .iter()
        .any(|n| n.message.contains("node 1 refused to restart")));
}

#[tokio::test]
async fn a_site_labelled_aws_takes_the_product_pages_gp3_disk_by_its_catalogue_name() {
    let site = SiteConfig {
        provider: "aws".into(),
        ..SiteConfig::default()
    };
    let services = Services::builder(
        Arc::new(InMemoryStore::default()),
        Arc::new(ManualClock::at("2025-01-23T18:12:04Z")),
        site,
    )
    .engine(Arc::new(FakeEngine::default()))
    .build();
    let scope = crate::Scope::trusted(services.start().await.unwrap());
    let network = services.list_networks(&scope).await.unwrap()[0].clone();
    assert_eq!(network.provider, "aws");
    let mut request = crate::testkit::cluster_request(network.id);
    request.disk_type = "GP3".into();
    let cluster = services.create_cluster(&scope, &request).await.unwrap();
    assert_eq!(
        cluster.disk_type, "gp3",
        "stored as the catalogue spells it"
    );

    request.disk_type = "io9".into();
    let Error::Invalid(fields) = services.create_cluster(&scope, &request).await.unwrap_err()
    else {
        panic!("an unknown disk type is a field error")
    };
    assert_eq!(
        fields["diskType"],
        "unknown disk type 'io9': use gp3, gp2, local-ssd"
    );
}
