//! Flows: jobs, history, retention.

use super::*;
use crate::lifecycle::JobEvent;
use crate::{Clock, JobStore};
use cairn_model::{CreateJobRequest, HistoryStatus, Job, JobStatus, ScheduledBackupData};

pub(super) async fn job(f: &Fixture, cluster: &Cluster, keep: u32) -> Job {
    let request = CreateJobRequest {
        description: "hourly".into(),
        schedule: "0 * * * *".into(),
        data: ScheduledBackupData {
            cluster_id: cluster.id.clone(),
            description: "{cluster} hourly #{index}".into(),
            max_backup_count: keep,
        },
    };
    f.services.create_job(&f.scope, &request).await.unwrap()
}

#[tokio::test]
async fn a_run_writes_history_and_its_backup_belongs_to_the_job() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let job = job(&f, &cluster, 3).await;
    let started = f.services.run_job_now(&f.scope, &job.id).await.unwrap();
    assert_eq!(started.status, HistoryStatus::Started);
    let backup_id = started
        .linked_resource
        .clone()
        .expect("the run made a backup");
    f.services.settle().await;

    let history = f.services.job_history(&f.scope, &job.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].status, HistoryStatus::Succeeded);
    assert_eq!(
        history[0].details,
        format!("backup {backup_id} is available")
    );
    assert!(history[0].end_time.is_some());
    let backup = f.services.get_backup(&f.scope, &backup_id).await.unwrap();
    assert_eq!(backup.linked_resource.as_ref(), Some(&job.id));
    assert_eq!(backup.description, "orders hourly #1");
}

#[tokio::test]
async fn retention_keeps_a_backup_while_a_cluster_is_restored_from_it_and_prunes_it_after() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let job = job(&f, &cluster, 1).await;
    let first = f.services.run_job_now(&f.scope, &job.id).await.unwrap();
    f.services.settle().await;
    let first = first.linked_resource.unwrap();
    f.engine.hold_provisioning();
    let mut request = f.request("local-1").await;
    request.source_backup_id = Some(first.clone());
    let restoring = f.services.create_cluster(&f.scope, &request).await.unwrap();

    let second = f.services.run_job_now(&f.scope, &job.id).await.unwrap();
    let second = second.linked_resource.unwrap();
    while f
        .services
        .get_backup(&f.scope, &second)
        .await
        .unwrap()
        .status
        == BackupStatus::Creating
    {
        tokio::task::yield_now().await;
    }
    // The run's retention has run by now (it ends the run): the first backup is kept.
    while f.services.job_history(&f.scope, &job.id).await.unwrap()[1]
        .end_time
        .is_none()
    {
        tokio::task::yield_now().await;
    }
    let plan = f
        .services
        .plan_job_retention(&f.scope, &job.id)
        .await
        .unwrap();
    assert!(plan.delete.is_empty(), "{plan:?}");
    assert_eq!(plan.deferred.len(), 1, "{plan:?}");
    assert!(plan.deferred[0].1.contains(restoring.id.as_str()));
    assert_eq!(
        f.services
            .get_backup(&f.scope, &first)
            .await
            .unwrap()
            .status,
        BackupStatus::Available
    );

    f.engine.release_provisioning();
    f.services.settle().await;
    f.services.run_job_now(&f.scope, &job.id).await.unwrap();
    f.services.settle().await;
    for pruned in [&first, &second] {
        assert_eq!(
            f.services
                .get_backup(&f.scope, pruned)
                .await
                .unwrap()
                .status,
            BackupStatus::Deleted
        );
    }
}

#[tokio::test]
async fn a_run_on_a_locked_cluster_fails_with_the_holder_in_its_history() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let job = job(&f, &cluster, 3).await;
    f.engine.snapshots(SnapshotBehaviour::Hold);
    let manual = f
        .services
        .create_backup(&f.scope, &cluster.id, "manual")
        .await
        .unwrap();
    let item = f.services.run_job_now(&f.scope, &job.id).await.unwrap();
    assert_eq!(item.status, HistoryStatus::Failed);
    assert_eq!(
        item.details,
        format!(
            "cluster {} is locked by backup {} (manual)",
            cluster.id, manual.id
        )
    );
    assert_eq!(item.linked_resource, None);
    f.engine.release_snapshots();
    f.services.settle().await;
}

#[tokio::test]
async fn retention_keeps_the_newest_backups_of_the_job_and_never_touches_one_offs() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let job = job(&f, &cluster, 2).await;
    let one_off = f
        .services
        .create_backup(&f.scope, &cluster.id, "keep me")
        .await
        .unwrap();
    f.services.settle().await;
    let mut made = Vec::new();
    for _ in 0..4 {
        let item = f.services.run_job_now(&f.scope, &job.id).await.unwrap();
        made.push(item.linked_resource.unwrap());
        f.services.settle().await;
    }
    let listed: Vec<_> = f
        .services
        .list_backups(&f.scope)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(
        listed,
        [one_off.id.clone(), made[2].clone(), made[3].clone()]
    );
    for pruned in &made[..2] {
        let gone = f.services.get_backup(&f.scope, pruned).await.unwrap();
        assert_eq!(
            gone.status,
            BackupStatus::Deleted,
            "deleted backups stay readable by id"
        );
        assert!(
            f.engine.deleted_snapshots().contains(pruned),
            "its snapshot is removed"
        );
    }
}

#[tokio::test]
async fn a_failed_run_prunes_nothing_and_the_next_success_removes_the_defunct_backup() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let job = job(&f, &cluster, 1).await;
    f.services.run_job_now(&f.scope, &job.id).await.unwrap();
    f.services.settle().await;
    f.engine
        .snapshots(SnapshotBehaviour::Fail(EngineError::Unhealthy(
            "node 3 is behind on replication".into(),
        )));
    let failed = f.services.run_job_now(&f.scope, &job.id).await.unwrap();
    f.services.settle().await;
    assert_eq!(
        f.services.list_backups(&f.scope).await.unwrap().len(),
        2,
        "nothing pruned after a failure"
    );
    let history = f.services.job_history(&f.scope, &job.id).await.unwrap();
    assert_eq!(history[1].status, HistoryStatus::Failed);
    assert!(history[1]
        .details
        .contains("node 3 is behind on replication"));

    f.engine.snapshots(SnapshotBehaviour::Succeed);
    let good = f.services.run_job_now(&f.scope, &job.id).await.unwrap();
    f.services.settle().await;
    let listed: Vec<_> = f
        .services
        .list_backups(&f.scope)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(listed, [good.linked_resource.unwrap()]);
    let defunct = failed.linked_resource.unwrap();
    assert_eq!(
        f.services
            .get_backup(&f.scope, &defunct)
            .await
            .unwrap()
            .status,
        BackupStatus::Deleted
    );
}

#[tokio::test]
async fn deleting_a_job_keeps_its_backups() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let job = job(&f, &cluster, 3).await;
    f.services.run_job_now(&f.scope, &job.id).await.unwrap();
    f.services.settle().await;
    let deleted = f
        .services
        .change_job(&f.scope, &job.id, JobEvent::Delete)
        .await
        .unwrap();
    assert_eq!(deleted.status, JobStatus::Deleted);
    assert!(f.services.list_jobs(&f.scope).await.unwrap().is_empty());
    assert_eq!(f.services.list_backups(&f.scope).await.unwrap().len(), 1);
    let error = f.services.run_job_now(&f.scope, &job.id).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conflict);
}

#[tokio::test]
async fn pausing_twice_is_refused_and_resuming_works() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let job = job(&f, &cluster, 3).await;
    f.services
        .change_job(&f.scope, &job.id, JobEvent::Pause)
        .await
        .unwrap();
    let error = f
        .services
        .change_job(&f.scope, &job.id, JobEvent::Pause)
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "a job that is paused cannot be paused");
    let resumed = f
        .services
        .change_job(&f.scope, &job.id, JobEvent::Resume)
        .await
        .unwrap();
    assert_eq!(resumed.status, JobStatus::Running);
}

#[tokio::test]
async fn a_job_for_an_unknown_cluster_is_refused_with_every_field_error() {
    let f = fixture().await;
    let request = CreateJobRequest {
        description: "".into(),
        schedule: "* * * * *".into(),
        data: ScheduledBackupData {
            cluster_id: cairn_model::ClusterId::parse("c1eut65o0aeu6ojco7a0").unwrap(),
            description: "ok".into(),
            max_backup_count: 4,
        },
    };
    let Error::Invalid(fields) = f.services.create_job(&f.scope, &request).await.unwrap_err()
    else {
        panic!("expected field errors")
    };
    assert_eq!(
        fields.keys().collect::<Vec<_>>(),
        ["data.clusterId", "description", "schedule"]
    );
}

#[tokio::test]
async fn an_edited_job_keeps_its_cluster_and_a_new_schedule_counts_from_now() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let job = job(&f, &cluster, 3).await;
    f.clock.advance(chrono::Duration::hours(3));
    let edit = cairn_model::EditJobRequest {
        description: Some(" nightly ".into()),
        schedule: Some("15 2 * * *".into()),
        data: Some(cairn_model::EditJobData {
            description: Some("{cluster} nightly #{index}".into()),
            max_backup_count: Some(5),
        }),
    };
    let edited = f.services.edit_job(&f.scope, &job.id, &edit).await.unwrap();
    assert_eq!(edited.description, "nightly");
    assert_eq!(edited.schedule, "15 2 * * *");
    assert_eq!(edited.data.description, "{cluster} nightly #{index}");
    assert_eq!(edited.data.max_backup_count, 5);
    assert_eq!(edited.data.cluster_id, cluster.id);
    let scheduled = f.store.scheduled_jobs().await.unwrap();
    let (_, from) = scheduled.iter().find(|(j, _)| j.id == job.id).unwrap();
    assert_eq!(
        *from,
        f.clock.now(),
        "the new schedule fires no run it missed"
    );

    // Only the description: the schedule's start stays.
    f.clock.advance(chrono::Duration::minutes(1));
    let rename = cairn_model::EditJobRequest {
        description: Some("nightly, renamed".into()),
        ..Default::default()
    };
    f.services
        .edit_job(&f.scope, &job.id, &rename)
        .await
        .unwrap();
    let scheduled = f.store.scheduled_jobs().await.unwrap();
    let (_, kept) = scheduled.iter().find(|(j, _)| j.id == job.id).unwrap();
    assert_eq!(kept, from);
}

#[tokio::test]
async fn an_edit_names_every_broken_rule_at_once_and_changes_nothing() {
    let f = fixture().await;
    let cluster = f.available_cluster().await;
    let job = job(&f, &cluster, 3).await;
    let edit = cairn_model::EditJobRequest {
        description: Some(" ".into()),
        schedule: Some("* * * * *".into()),
        data: Some(cairn_model::EditJobData {
            description: Some("{nope".into()),
            max_backup_count: Some(0),
        }),
    };
    let Error::Invalid(fields) = f
        .services
        .edit_job(&f.scope, &job.id, &edit)
        .await
        .unwrap_err()
    else {
        panic!("field errors")
    };
    let names: Vec<&str> = fields.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "data.description",
            "data.maxBackupCount",
            "description",
            "schedule"
        ]
    );
    assert_eq!(f.services.get_job(&f.scope, &job.id).await.unwrap(), job);

    f.services
        .change_job(&f.scope, &job.id, JobEvent::Delete)
        .await
        .unwrap();
    let error = f
        .services
        .edit_job(&f.scope, &job.id, &Default::default())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conflict);
}
