//! Behaviour of backups, locks, restores and recovery, over the in-memory store and the fake
//! engine. Each test reads as the rule it checks.

use crate::testkit::{
    FakeEngine, InMemoryStore, ManualClock, RecordingNotifier, SnapshotBehaviour,
};
use crate::{
    BackupStore, ClusterLock, ClusterStore, EngineError, Error, ErrorKind, LockKind, Scope,
    Services, SiteConfig,
};
use cairn_model::{
    Backup, BackupStatus, Cluster, ClusterHealth, ClusterStatus, CreateClusterRequest,
    InstanceType, Topology,
};
use std::sync::Arc;
use std::time::Duration;

pub(crate) struct Fixture {
    pub(crate) services: Services,
    pub(crate) store: Arc<InMemoryStore>,
    pub(crate) engine: Arc<FakeEngine>,
    pub(crate) notifier: Arc<RecordingNotifier>,
    pub(crate) scope: Scope,
    pub(crate) clock: Arc<ManualClock>,
}

/// A fixture whose snapshots (and restore tests) are given up on after `deadline`.
pub(crate) async fn fixture_with(deadline: Duration) -> Fixture {
    let store = Arc::new(InMemoryStore::default());
    let engine = Arc::new(FakeEngine::default());
    let notifier = Arc::new(RecordingNotifier::default());
    let clock = Arc::new(ManualClock::at("2025-01-23T18:12:04Z"));
    let services = Services::builder(store.clone(), clock.clone(), SiteConfig::default())
        .engine(engine.clone())
        .notifier(notifier.clone())
        .snapshot_deadline(deadline)
        .build();
    let scope = crate::Scope::trusted(services.start().await.unwrap());
    Fixture {
        services,
        store,
        engine,
        notifier,
        scope,
        clock,
    }
}

pub(crate) async fn fixture() -> Fixture {
    fixture_with(Duration::from_secs(3600)).await
}

impl Fixture {
    async fn request(&self, region: &str) -> CreateClusterRequest {
        let network = self
            .services
            .list_networks(&self.scope)
            .await
            .unwrap()
            .into_iter()
            .find(|n| n.region == region)
            .unwrap();
        CreateClusterRequest {
            topology: Topology::ThreeNodeMultiZone,
            ..crate::testkit::cluster_request(network.id)
        }
    }

    /// Another Cairn instance over the same store and engine, reading `clock` (the fixture's
    /// own for a live peer, a later one for a restart).
    pub(crate) fn another_instance(&self, clock: Arc<ManualClock>) -> Services {
        Services::builder(self.store.clone(), clock, SiteConfig::default())
            .engine(self.engine.clone())
            .build()
    }

    pub(crate) async fn available_cluster(&self) -> Cluster {
        let cluster = self
            .services
            .create_cluster(&self.scope, &self.request("local-1").await)
            .await
            .unwrap();
        self.services.settle().await;
        let cluster = self
            .services
            .get_cluster(&self.scope, &cluster.id)
            .await
            .unwrap();
        assert_eq!(cluster.status, ClusterStatus::Available);
        cluster
    }

    async fn backup(&self, backup: &Backup) -> Backup {
        self.services
            .get_backup(&self.scope, &backup.id)
            .await
            .unwrap()
    }
}

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

// ---- jobs, history, retention ----

mod jobs {
    use super::*;
    use crate::lifecycle::JobEvent;
    use cairn_model::{CreateJobRequest, HistoryStatus, Job, JobStatus, ScheduledBackupData};

    async fn job(f: &Fixture, cluster: &Cluster, keep: u32) -> Job {
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
}

// ---- the scheduler, on a simulated clock ----

mod scheduling {
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
        async fn job(
            &self,
            cluster: &Cluster,
            description: &str,
            schedule: &str,
            keep: u32,
        ) -> Job {
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

    fn oldest_age(
        now: DateTime<Utc>,
        backups: &[cairn_model::Backup],
        job: &Job,
    ) -> Option<TimeDelta> {
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
}

// ---- changes to clusters ----

mod cluster_changes {
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
}

mod cluster_recovery {
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
}

mod deleting_backups {
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
}
