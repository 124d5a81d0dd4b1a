//! Flows: deleting_backups.

use super::*;

#[tokio::test]
async fn a_deleted_backup_leaves_the_list_stays_readable_and_its_snapshot_goes() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let backup = f
        .services
        .create_backup(&f.scope, &cluster.id, "old")
        .await
        .unwrap();
    f.services.settle().await;
    let deleting = f
        .services
        .delete_backup(&f.scope, &backup.id)
        .await
        .unwrap();
    assert_eq!(deleting.status, BackupStatus::Deleting);
    f.services.settle().await;
    assert!(f.services.list_backups(&f.scope).await.unwrap().is_empty());
    assert_eq!(
        f.services
            .get_backup(&f.scope, &backup.id)
            .await
            .unwrap()
            .status,
        BackupStatus::Deleted
    );
    assert_eq!(
        f.engine.deleted_snapshots(),
        std::slice::from_ref(&backup.id)
    );
}

#[tokio::test]
async fn a_new_backup_is_listed_at_once_here_and_within_half_a_second_from_another_instance() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    assert!(f.services.list_backups(&f.scope).await.unwrap().is_empty());
    f.services
        .create_backup(&f.scope, &cluster.id, "here")
        .await
        .unwrap();
    f.services.settle().await;
    assert_eq!(f.services.list_backups(&f.scope).await.unwrap().len(), 1);

    let other = f.another_instance(f.clock.clone());
    other
        .create_backup(&f.scope, &cluster.id, "there")
        .await
        .unwrap();
    other.settle().await;
    assert_eq!(
        f.services.list_backups(&f.scope).await.unwrap().len(),
        1,
        "this instance's list from a moment ago"
    );
    f.clock.advance(crate::backups::BACKUP_LIST_KEPT);
    assert_eq!(f.services.list_backups(&f.scope).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_backup_being_created_or_restored_cannot_be_deleted() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    f.engine.snapshots(SnapshotBehaviour::Hold);
    let creating = f
        .services
        .create_backup(&f.scope, &cluster.id, "busy")
        .await
        .unwrap();
    let error = f
        .services
        .delete_backup(&f.scope, &creating.id)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "a backup that is creating cannot be deleted"
    );
    f.engine.release_snapshots();
    f.services.settle().await;

    let mut request = f.request("local-1").await;
    request.source_backup_id = Some(creating.id.clone());
    let restoring = f.services.create_cluster(&f.scope, &request).await.unwrap();
    let error = f
        .services
        .delete_backup(&f.scope, &creating.id)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conflict);
    assert!(
        error
            .to_string()
            .contains(&format!("is being restored into cluster {}", restoring.id)),
        "{error}"
    );
    f.services.settle().await;
    f.services
        .delete_backup(&f.scope, &creating.id)
        .await
        .unwrap();
    f.services.settle().await;
}

#[tokio::test]
async fn a_defunct_one_off_backup_is_deleted_by_hand() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    f.engine
        .snapshots(SnapshotBehaviour::Fail(EngineError::Failed(
            "disk full".into(),
        )));
    let backup = f
        .services
        .create_backup(&f.scope, &cluster.id, "doomed")
        .await
        .unwrap();
    f.services.settle().await;
    assert_eq!(
        f.services
            .get_backup(&f.scope, &backup.id)
            .await
            .unwrap()
            .status,
        BackupStatus::Defunct
    );
    f.services
        .delete_backup(&f.scope, &backup.id)
        .await
        .unwrap();
    f.services.settle().await;
    assert!(f.services.list_backups(&f.scope).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_grouped_list_keeps_a_deleted_jobs_backups_under_its_name() {
    use cairn_model::{CreateJobRequest, ScheduledBackupData};
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let request = CreateJobRequest {
        description: "Nightly".into(),
        schedule: "0 0 * * *".into(),
        data: ScheduledBackupData {
            cluster_id: cluster.id.clone(),
            description: "n{index}".into(),
            max_backup_count: 5,
        },
    };
    let job = f.services.create_job(&f.scope, &request).await.unwrap();
    for _ in 0..2 {
        f.services.run_job_now(&f.scope, &job.id).await.unwrap();
        f.services.settle().await;
    }
    f.services
        .create_backup(&f.scope, &cluster.id, "by hand")
        .await
        .unwrap();
    f.services.settle().await;
    f.services
        .change_job(&f.scope, &job.id, crate::lifecycle::JobEvent::Delete)
        .await
        .unwrap();
    let grouped = f.services.list_backups_grouped(&f.scope).await.unwrap();
    assert_eq!(grouped.jobs.len(), 1);
    assert_eq!(
        grouped.jobs[0].summary(),
        "Nightly - 2 backups - 2 available"
    );
    assert!(grouped.jobs[0].job_deleted);
    assert_eq!(grouped.one_off.len(), 1);
}
