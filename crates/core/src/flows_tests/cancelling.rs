//! Flows: cancelling a backup while its snapshot runs.

use super::*;
use cairn_model::HistoryStatus;

#[tokio::test]
async fn a_cancelled_backup_stops_its_snapshot_removes_what_it_wrote_and_frees_the_cluster() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    f.engine.snapshots(SnapshotBehaviour::Hold);
    let backup = f
        .services
        .create_backup(&f.scope, &cluster.id, "held")
        .await
        .unwrap();

    let cancelled = f
        .services
        .cancel_backup(&f.scope, &backup.id)
        .await
        .unwrap();
    assert_eq!(cancelled.status, BackupStatus::Cancelled);
    let reason = cancelled.failure_reason.clone().unwrap_or_default();
    assert!(reason.starts_with("cancelled by "), "{reason}");
    assert!(cancelled.finished.is_some());
    assert_eq!(
        f.engine.deleted_snapshots(),
        std::slice::from_ref(&backup.id),
        "partial data collected"
    );
    assert!(
        f.store.locks().await.unwrap().is_empty(),
        "the lock is free"
    );

    // The cluster takes the next backup as usual, and the cancelled one can be deleted.
    f.engine.snapshots(SnapshotBehaviour::Succeed);
    let next = f
        .services
        .create_backup(&f.scope, &cluster.id, "next")
        .await
        .unwrap();
    f.services.settle().await;
    assert_eq!(f.backup(&next).await.status, BackupStatus::Available);
    f.services
        .delete_backup(&f.scope, &backup.id)
        .await
        .unwrap();
    f.services.settle().await;
    assert_eq!(f.backup(&backup).await.status, BackupStatus::Deleted);
}

#[tokio::test]
async fn only_a_backup_being_created_can_be_cancelled() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let backup = f
        .services
        .create_backup(&f.scope, &cluster.id, "done")
        .await
        .unwrap();
    f.services.settle().await;
    let error = f
        .services
        .cancel_backup(&f.scope, &backup.id)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conflict);
    assert!(error.to_string().contains("is available"), "{error}");
    assert_eq!(f.backup(&backup).await.status, BackupStatus::Available);
}

#[tokio::test]
async fn a_cancelled_run_says_who_cancelled_it_in_the_jobs_history() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let job = super::jobs::job(&f, &cluster, 2).await;
    f.engine.snapshots(SnapshotBehaviour::Hold);
    let run = f.services.run_job_now(&f.scope, &job.id).await.unwrap();
    let backup = run.linked_resource.clone().unwrap();
    f.services.cancel_backup(&f.scope, &backup).await.unwrap();
    f.services.settle().await;

    let history = f.services.job_history(&f.scope, &job.id).await.unwrap();
    assert_eq!(history[0].status, HistoryStatus::Failed);
    assert!(
        history[0]
            .details
            .starts_with(&format!("backup {backup} was cancelled by ")),
        "{}",
        history[0].details
    );
    assert!(f.store.locks().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_racing_the_snapshots_own_end_leaves_one_final_state_and_no_lock() {
    for _ in 0..20 {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        f.engine.snapshots(SnapshotBehaviour::Hold);
        let backup = f
            .services
            .create_backup(&f.scope, &cluster.id, "racing")
            .await
            .unwrap();
        let (services, scope, id) = (f.services.clone(), f.scope.clone(), backup.id.clone());
        let cancel = tokio::spawn(async move { services.cancel_backup(&scope, &id).await });
        f.engine.release_snapshots();
        let answer = cancel.await.unwrap();
        f.services.settle().await;
        let end = f.backup(&backup).await.status;
        match answer {
            Ok(answered) => assert_eq!(answered.status, end),
            Err(error) => {
                assert_eq!(error.kind(), ErrorKind::Conflict, "{error}");
                assert_eq!(end, BackupStatus::Available);
            }
        }
        assert!(
            matches!(end, BackupStatus::Available | BackupStatus::Cancelled),
            "{end:?}"
        );
        assert!(f.store.locks().await.unwrap().is_empty(), "no lock left");
    }
}
