//! Restore tests: a job type beside scheduled backups. Each run restores the cluster's newest
//! available backup into a temporary single-node cluster, checks that it holds exactly the
//! events the backup recorded (count and last position), deletes the temporary cluster, and
//! records the outcome in the job's history. A failure raises `restore-test-failed`.

use crate::audit::{Record, Subject};
use crate::error::{Error, Result};
use crate::lifecycle::RunEvent;
use crate::ports::Notification;
use crate::services::{Scope, Services};
use cairn_model::audit::actions;
use cairn_model::restore::MAX_DESCRIPTION_LEN;
use cairn_model::schedule::Schedule;
use cairn_model::{
    Backup, BackupStatus, ClusterId, ClusterStatus, CreateClusterRequest, HistoryItem,
    InstanceType, Job, JobId, JobStatus, JobType, ScheduledBackupData, Topology,
};

/// How a restore test's temporary cluster is named (then the backup's label): recovery
/// finds leftovers of a test that died with its instance by it.
pub const TEMPORARY: &str = "Restore test of";

/// A new restore-test job: what it is called, when it runs, which cluster's backups it tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRestoreTestRequest {
    pub description: String,
    pub schedule: String,
    pub cluster_id: ClusterId,
}

impl Services {
    /// Schedules restore tests of a cluster's backups: a job, recorded in the audit as one.
    pub async fn create_restore_test(
        &self,
        scope: &Scope,
        request: &CreateRestoreTestRequest,
    ) -> Result<Job> {
        let summary = format!("restore test {}", request.description.trim());
        let subject = Subject::new("cluster", &request.cluster_id, summary);
        let record = Record::in_scope(scope, actions::JOB_CREATE, subject);
        let work = self.creating_restore_test(scope, request);
        self.audited(record, work, |job, _| {
            Subject::new("job", &job.id, format!("restore test {}", job.description))
        })
        .await
    }

    async fn creating_restore_test(
        &self,
        scope: &Scope,
        request: &CreateRestoreTestRequest,
    ) -> Result<Job> {
        // Its runs make clusters with Cairn's own rights: only who may make them may ask.
        scope.require(cairn_model::Permission::Operate)?;
        let mut errors = cairn_model::FieldErrors::new();
        let description = request.description.trim();
        if description.is_empty() {
            errors.insert("description".into(), "a description is required".into());
        } else if description.chars().count() > MAX_DESCRIPTION_LEN {
            errors.insert(
                "description".into(),
                format!("a description has at most {MAX_DESCRIPTION_LEN} characters"),
            );
        }
        let schedule = Schedule::parse(&request.schedule);
        if let Err(error) = &schedule {
            errors.insert("schedule".into(), error.to_string());
        }
        let store = &self.inner().store;
        if store
            .cluster(&scope.project_id, &request.cluster_id)
            .await?
            .is_none()
        {
            errors.insert(
                "data.clusterId".into(),
                format!("cluster {} was not found", request.cluster_id),
            );
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let raw = self.inner().ids.next(self.inner().clock.as_ref());
        let job = Job {
            id: JobId::from_raw(raw),
            organization_id: scope.organization_id.clone(),
            project_id: scope.project_id.clone(),
            description: description.to_owned(),
            schedule: schedule.expect("checked above").to_string(),
            status: JobStatus::Running,
            job_type: JobType::ScheduledRestoreTest,
            data: ScheduledBackupData {
                cluster_id: request.cluster_id.clone(),
                description: String::new(),
                max_backup_count: 0,
            },
            created: raw.time(),
        };
        store.insert_job(&job).await?;
        self.wake_scheduler();
        Ok(job)
    }

    /// Starts a restore test's run whose history item is stored: links the backup it tests,
    /// and tests it in the background. With no backup to test, the run fails at once.
    pub(crate) async fn execute_restore_test(
        &self,
        scope: &Scope,
        job: &Job,
        mut item: HistoryItem,
    ) -> Result<HistoryItem> {
        // One test of a job at a time: each needs a cluster's worth of disk, ports and nodes.
        let running = self
            .inner()
            .store
            .history(&job.id, 2)
            .await?
            .into_iter()
            .find(|run| run.id != item.id && run.status == cairn_model::HistoryStatus::Started);
        if let Some(running) = running {
            let reason = format!(
                "the job's run {} is still testing; one restore test of a job runs at a time",
                running.id
            );
            self.end_run(&mut item, RunEvent::Failed, reason).await?;
            return Ok(item);
        }
        let Some(backup) = self
            .newest_available_backup(scope, &job.data.cluster_id)
            .await?
        else {
            let reason = format!(
                "cluster {} has no available backup to test",
                job.data.cluster_id
            );
            self.end_run(&mut item, RunEvent::Failed, reason.clone())
                .await?;
            self.announce_failed_test(scope, job, &item, &reason).await;
            return Ok(item);
        };
        item.linked_resource = Some(backup.id.clone());
        item.details = format!("restore test of backup {} started", backup.id);
        self.inner().store.update_history(&item).await?;
        let (services, scope, job, mut run) =
            (self.clone(), scope.clone(), job.clone(), item.clone());
        let here = RunsHere::new(self, &item.id);
        self.spawn(async move {
            let _here = here;
            let (event, details) = match services.test_restore(&scope, &backup).await {
                Ok(details) => (RunEvent::Succeeded, details),
                Err(reason) => (RunEvent::Failed, reason),
            };
            if let Err(error) = services.end_run(&mut run, event, details.clone()).await {
                tracing::error!(%error, "could not record the end of a restore test");
            }
            if event == RunEvent::Failed {
                services
                    .announce_failed_test(&scope, &job, &run, &details)
                    .await;
            }
        });
        Ok(item)
    }

    /// Whether this instance runs that restore-test run now.
    pub(crate) fn runs_here(&self, run: &cairn_model::HistoryId) -> bool {
        self.inner()
            .restore_tests
            .lock()
            .expect("restore tests")
            .contains(run)
    }

    async fn newest_available_backup(
        &self,
        scope: &Scope,
        cluster: &ClusterId,
    ) -> Result<Option<Backup>> {
        Ok(self
            .inner()
            .store
            .backups(&scope.project_id)
            .await?
            .into_iter()
            .filter(|b| &b.source_cluster_id == cluster && b.status == BackupStatus::Available)
            .max_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id))))
    }

    /// Restores `backup` into a temporary cluster, compares, deletes the cluster. `Ok` says
    /// what was found; `Err` what was wrong.
    async fn test_restore(
        &self,
        scope: &Scope,
        backup: &Backup,
    ) -> std::result::Result<String, String> {
        let source = self
            .inner()
            .store
            .cluster(&scope.project_id, &backup.source_cluster_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("cluster {} is gone", backup.source_cluster_id))?;
        let mut description = format!("{TEMPORARY} {}", backup.description);
        if description.chars().count() > MAX_DESCRIPTION_LEN {
            description = description.chars().take(MAX_DESCRIPTION_LEN).collect();
        }
        let request = CreateClusterRequest {
            description,
            network_id: source.network_id.clone(),
            topology: Topology::SingleNode,
            instance_type: InstanceType::F1,
            disk_size_gb: backup.size_gb,
            disk_type: source.disk_type.clone(),
            server_version: backup.server_version.clone(),
            projection_level: source.projection_level,
            source_backup_id: Some(backup.id.clone()),
            source_backup_project_id: None,
            protected: false,
        };
        let (temporary, provisioning) = self
            .start_cluster(scope, &request)
            .await
            .map_err(|e| format!("the temporary cluster could not be made: {e}"))?;
        // Provisioning runs on its own task: given up on at the deadline, it still ends (and
        // releases its lock), and the temporary cluster is deleted then.
        let mut provisioning = tokio::spawn(provisioning);
        let deadline = self.inner().snapshot_deadline;
        let finished = tokio::time::timeout(deadline, &mut provisioning)
            .await
            .is_ok();
        if !finished {
            let (services, scope, id) = (self.clone(), scope.clone(), temporary.id.clone());
            self.spawn(async move {
                let _ = provisioning.await;
                if let Err(error) = services.delete_cluster(&scope, &id).await {
                    tracing::warn!(cluster.id = %id, %error, "a late temporary cluster could not be deleted");
                }
            });
            return Err(format!(
                "the restore into temporary cluster {} did not finish within {} seconds; it is \
                 deleted once it ends",
                temporary.id,
                deadline.as_secs()
            ));
        }
        let verdict = self.compare_restored(scope, backup, &temporary.id).await;
        // The temporary cluster goes however the test went (a failed one too).
        let cleanup = self.delete_cluster(scope, &temporary.id).await;
        match (verdict, cleanup) {
            (verdict, Ok(_)) => verdict,
            (Ok(found), Err(error)) => Err(format!(
                "{found}, but the temporary cluster {} could not be deleted: {error}",
                temporary.id
            )),
            (Err(reason), Err(error)) => Err(format!(
                "{reason}; the temporary cluster {} could not be deleted either: {error}",
                temporary.id
            )),
        }
    }

    async fn compare_restored(
        &self,
        scope: &Scope,
        backup: &Backup,
        temporary: &ClusterId,
    ) -> std::result::Result<String, String> {
        let restored = self
            .get_cluster(scope, temporary)
            .await
            .map_err(|e| e.to_string())?;
        if restored.status != ClusterStatus::Available {
            return Err(format!(
                "backup {} could not be restored: temporary cluster {temporary} is {}",
                backup.id,
                restored.status.as_str()
            ));
        }
        let engine = self.engine().map_err(|e| e.to_string())?;
        let found = engine
            .contents(&restored)
            .await
            .map_err(|e| format!("temporary cluster {temporary} could not be read: {e}"))?;
        match (found, backup.contents) {
            (Some(found), Some(expected)) if found == expected => Ok(format!(
                "backup {} restored into temporary cluster {temporary}: {} events up to position \
                 {}, as recorded at backup time",
                backup.id, found.event_count, found.last_position
            )),
            (Some(found), Some(expected)) => Err(format!(
                "backup {} restored into temporary cluster {temporary} holds {} events up to \
                 position {}; the backup recorded {} events up to position {}",
                backup.id,
                found.event_count,
                found.last_position,
                expected.event_count,
                expected.last_position
            )),
            (_, None) => Err(format!(
                "backup {} restored into temporary cluster {temporary} and started, but the backup \
                 records no contents to compare with (it was taken before Cairn recorded them): \
                 nothing was proven; take a new backup",
                backup.id
            )),
            (None, _) => Err(format!(
                "temporary cluster {temporary} cannot tell what it holds: nothing was proven"
            )),
        }
    }

    async fn announce_failed_test(
        &self,
        scope: &Scope,
        job: &Job,
        run: &HistoryItem,
        reason: &str,
    ) {
        self.raise(Notification {
            scope: Some(scope.place()),
            category: "restore-test-failed",
            subject: format!("Restore test “{}” failed", job.description),
            message: format!("Run {} of restore test {} failed: {reason}", run.id, job.id),
            resource_id: job.id.to_string(),
        })
        .await;
    }
}

/// Marks a restore-test run as running on this instance, until dropped (however its task
/// ends, a panic included).
struct RunsHere(Services, cairn_model::HistoryId);

impl RunsHere {
    fn new(services: &Services, run: &cairn_model::HistoryId) -> RunsHere {
        services
            .inner()
            .restore_tests
            .lock()
            .expect("restore tests")
            .insert(run.clone());
        RunsHere(services.clone(), run.clone())
    }
}

impl Drop for RunsHere {
    fn drop(&mut self) {
        if let Ok(mut running) = self.0.inner().restore_tests.lock() {
            running.remove(&self.1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::fixture;
    use crate::{BackupStore, ClusterStore, JobStore};
    use cairn_model::{ClusterContents, HistoryStatus};

    async fn restore_test(f: &crate::testkit::Fixture, cluster: &ClusterId) -> Job {
        let request = CreateRestoreTestRequest {
            description: "Nightly restore test".into(),
            schedule: "0 3 * * *".into(),
            cluster_id: cluster.clone(),
        };
        f.services
            .create_restore_test(&f.scope, &request)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_restore_test_restores_the_newest_backup_compares_it_and_deletes_its_cluster() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        for label in ["old", "new"] {
            f.services
                .create_backup(&f.scope, &cluster.id, label)
                .await
                .unwrap();
            f.services.settle().await;
        }
        let newest = f.services.list_backups(&f.scope).await.unwrap()[1].clone();
        let job = restore_test(&f, &cluster.id).await;

        let started = f.services.run_job_now(&f.scope, &job.id).await.unwrap();
        assert_eq!(started.linked_resource.as_ref(), Some(&newest.id));
        f.services.settle().await;

        let run = &f.services.job_history(&f.scope, &job.id).await.unwrap()[0];
        assert_eq!(run.status, HistoryStatus::Succeeded, "{}", run.details);
        assert!(
            run.details
                .contains("42 events up to position 4200, as recorded"),
            "{}",
            run.details
        );
        let restored = f.engine.provisioned().last().cloned().unwrap();
        assert_eq!(restored.1.as_ref(), Some(&newest.id));
        let temporary = f.services.get_cluster(&f.scope, &restored.0).await.unwrap();
        assert_eq!(temporary.status, ClusterStatus::Deleted);
        assert_eq!(temporary.topology, Topology::SingleNode);
        assert!(f.store.locks().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_restore_that_holds_other_events_than_recorded_fails_the_run_and_notifies() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        f.services
            .create_backup(&f.scope, &cluster.id, "tested")
            .await
            .unwrap();
        f.services.settle().await;
        f.engine.restored_contents(Some(ClusterContents {
            event_count: 41,
            last_position: 4100,
        }));
        let job = restore_test(&f, &cluster.id).await;

        f.services.run_job_now(&f.scope, &job.id).await.unwrap();
        f.services.settle().await;

        let run = &f.services.job_history(&f.scope, &job.id).await.unwrap()[0];
        assert_eq!(run.status, HistoryStatus::Failed);
        assert!(
            run.details.contains("holds 41 events up to position 4100; the backup recorded 42 events up to position 4200"),
            "{}",
            run.details
        );
        let told = f.notifier.sent();
        assert_eq!(told.last().unwrap().category, "restore-test-failed");
        let temporary = f.engine.provisioned().last().cloned().unwrap().0;
        assert_eq!(
            f.services
                .get_cluster(&f.scope, &temporary)
                .await
                .unwrap()
                .status,
            ClusterStatus::Deleted,
            "the temporary cluster goes either way"
        );
    }

    #[tokio::test]
    async fn a_restore_test_runs_one_at_a_time_per_job() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        f.services
            .create_backup(&f.scope, &cluster.id, "tested")
            .await
            .unwrap();
        f.services.settle().await;
        let job = restore_test(&f, &cluster.id).await;
        f.engine.hold_provisioning();
        let first = f.services.run_job_now(&f.scope, &job.id).await.unwrap();
        let second = f.services.run_job_now(&f.scope, &job.id).await.unwrap();
        assert_eq!(second.status, HistoryStatus::Failed);
        assert!(second
            .details
            .contains(&format!("run {} is still testing", first.id)));
        f.engine.release_provisioning();
        f.services.settle().await;
        let history = f.services.job_history(&f.scope, &job.id).await.unwrap();
        assert_eq!(
            history[0].status,
            HistoryStatus::Succeeded,
            "{}",
            history[0].details
        );
    }

    #[tokio::test]
    async fn a_restore_test_past_its_deadline_fails_and_its_cluster_goes_once_provisioned() {
        let f = crate::testkit::fixture_with(std::time::Duration::from_millis(50)).await;
        let cluster = f.available_cluster().await;
        f.services
            .create_backup(&f.scope, &cluster.id, "slow")
            .await
            .unwrap();
        f.services.settle().await;
        let job = restore_test(&f, &cluster.id).await;
        f.engine.hold_provisioning();
        f.services.run_job_now(&f.scope, &job.id).await.unwrap();
        while f.services.job_history(&f.scope, &job.id).await.unwrap()[0].status
            == HistoryStatus::Started
        {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let run = &f.services.job_history(&f.scope, &job.id).await.unwrap()[0];
        assert_eq!(run.status, HistoryStatus::Failed);
        assert!(
            run.details.contains("did not finish within"),
            "{}",
            run.details
        );

        f.engine.release_provisioning();
        f.services.settle().await;
        let temporary = f.engine.provisioned().last().cloned().unwrap().0;
        assert_eq!(
            f.services
                .get_cluster(&f.scope, &temporary)
                .await
                .unwrap()
                .status,
            ClusterStatus::Deleted
        );
        assert!(f.store.locks().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_backup_that_records_no_contents_proves_nothing_and_fails_the_test() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        let backup = f
            .services
            .create_backup(&f.scope, &cluster.id, "old")
            .await
            .unwrap();
        f.services.settle().await;
        let mut old = f.services.get_backup(&f.scope, &backup.id).await.unwrap();
        old.contents = None;
        f.store.update_backup(&old).await.unwrap();
        let job = restore_test(&f, &cluster.id).await;

        f.services.run_job_now(&f.scope, &job.id).await.unwrap();
        f.services.settle().await;

        let run = &f.services.job_history(&f.scope, &job.id).await.unwrap()[0];
        assert_eq!(run.status, HistoryStatus::Failed);
        assert!(
            run.details.contains("nothing was proven"),
            "{}",
            run.details
        );
    }

    #[tokio::test]
    async fn a_restore_test_running_past_the_lease_is_left_running_by_recovery() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        f.services
            .create_backup(&f.scope, &cluster.id, "big")
            .await
            .unwrap();
        f.services.settle().await;
        let job = restore_test(&f, &cluster.id).await;
        f.engine.hold_provisioning();
        f.services.run_job_now(&f.scope, &job.id).await.unwrap();
        f.clock.advance(chrono::TimeDelta::minutes(5));
        f.services.heartbeat().await.unwrap();
        f.services.recover().await.unwrap();
        assert_eq!(
            f.services.job_history(&f.scope, &job.id).await.unwrap()[0].status,
            HistoryStatus::Started,
            "it runs here: recovery leaves it alone"
        );
        f.engine.release_provisioning();
        f.services.settle().await;
        let run = &f.services.job_history(&f.scope, &job.id).await.unwrap()[0];
        assert_eq!(run.status, HistoryStatus::Succeeded, "{}", run.details);
    }

    #[tokio::test]
    async fn a_restore_test_that_died_with_its_instance_fails_and_its_cluster_is_deleted() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        let backup = f
            .services
            .create_backup(&f.scope, &cluster.id, "nightly")
            .await
            .unwrap();
        f.services.settle().await;
        let job = restore_test(&f, &cluster.id).await;
        // What a dead instance left: its run started, its temporary cluster made.
        let mut run = f.services.new_run(&job);
        run.linked_resource = Some(backup.id.clone());
        assert!(f
            .store
            .claim_run(crate::Clock::now(f.clock.as_ref()), &run)
            .await
            .unwrap());
        let mut request = crate::testkit::cluster_request(cluster.network_id.clone());
        request.description = format!("{TEMPORARY} nightly");
        request.source_backup_id = Some(backup.id.clone());
        let temporary = f.services.create_cluster(&f.scope, &request).await.unwrap();
        f.services.settle().await;

        f.services.recover().await.unwrap();
        assert_eq!(
            f.services.job_history(&f.scope, &job.id).await.unwrap()[0].status,
            HistoryStatus::Started,
            "a moment ago: perhaps this instance's own"
        );
        f.clock.advance(chrono::TimeDelta::seconds(11));
        f.services.recover().await.unwrap();
        f.services.settle().await;

        let settled = &f.services.job_history(&f.scope, &job.id).await.unwrap()[0];
        assert_eq!(settled.status, HistoryStatus::Failed);
        assert_eq!(settled.details, "Cairn stopped while this restore test ran");
        assert_eq!(
            f.services
                .get_cluster(&f.scope, &temporary.id)
                .await
                .unwrap()
                .status,
            ClusterStatus::Deleted
        );
        assert_eq!(
            f.services
                .get_cluster(&f.scope, &cluster.id)
                .await
                .unwrap()
                .status,
            ClusterStatus::Available,
            "the backed-up cluster is left alone"
        );
    }

    #[tokio::test]
    async fn a_restore_test_of_a_cluster_without_backups_fails_at_once_saying_so() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        let job = restore_test(&f, &cluster.id).await;
        let run = f.services.run_job_now(&f.scope, &job.id).await.unwrap();
        assert_eq!(run.status, HistoryStatus::Failed);
        assert_eq!(
            run.details,
            format!("cluster {} has no available backup to test", cluster.id)
        );
        assert!(f
            .engine
            .provisioned()
            .iter()
            .all(|(id, _)| id == &cluster.id));
    }

    #[tokio::test]
    async fn a_failed_restore_fails_the_run_and_its_cluster_is_deleted() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        f.services
            .create_backup(&f.scope, &cluster.id, "tested")
            .await
            .unwrap();
        f.services.settle().await;
        f.engine
            .fail_provisioning(crate::EngineError::Failed("disk full".into()));
        let job = restore_test(&f, &cluster.id).await;

        f.services.run_job_now(&f.scope, &job.id).await.unwrap();
        f.services.settle().await;

        let run = &f.services.job_history(&f.scope, &job.id).await.unwrap()[0];
        assert_eq!(run.status, HistoryStatus::Failed);
        assert!(
            run.details.contains("could not be restored"),
            "{}",
            run.details
        );
        let temporary = f.engine.provisioned().last().cloned().unwrap().0;
        assert_eq!(
            f.services
                .get_cluster(&f.scope, &temporary)
                .await
                .unwrap()
                .status,
            ClusterStatus::Deleted
        );
    }
}
