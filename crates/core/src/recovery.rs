//! Every state that is not final has a way out, also when the Cairn instance running an
//! operation dies. Each instance heartbeats; every operation holds its cluster's lock, which
//! names the instance that owns it. An operation whose owner has been silent for longer than
//! [`LEASE`] is dead: whoever notices (on start, or in the periodic sweep) settles it —
//! backups `creating` become defunct, clusters mid-change are settled, the lock is released.
//! Live instances' operations are never touched.

use crate::error::Result;
use crate::lifecycle::RunEvent;
use crate::locks::{ClusterLock, LockKind};
use crate::services::Services;
use cairn_model::{BackupStatus, ClusterStatus};
use chrono::TimeDelta;
use std::collections::HashSet;
use std::future::Future;

/// How often an instance says it is alive and sweeps for dead instances' work.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long an instance may be silent before its operations count as dead.
pub const LEASE: TimeDelta = TimeDelta::seconds(60);

/// Statuses of a cluster with an operation in flight.
const IN_FLUX: [ClusterStatus; 5] = [
    ClusterStatus::Provisioning,
    ClusterStatus::ExpandingDisks,
    ClusterStatus::Resizing,
    ClusterStatus::Upgrading,
    ClusterStatus::Deleting,
];

impl Services {
    /// Says this instance is alive now.
    pub async fn heartbeat(&self) -> Result<()> {
        let now = self.inner().clock.now();
        self.inner()
            .store
            .heartbeat(&self.inner().instance, now)
            .await
    }

    async fn live_instances(&self) -> Result<HashSet<String>> {
        let cutoff = self.inner().clock.now() - LEASE;
        let mut live: HashSet<String> = self
            .inner()
            .store
            .heartbeats()
            .await?
            .into_iter()
            .filter(|(_, at)| *at >= cutoff)
            .map(|(id, _)| id)
            .collect();
        if let Some(predecessor) = &self.inner().predecessor {
            live.remove(predecessor);
        }
        live.insert(self.inner().instance.clone());
        Ok(live)
    }

    /// Settles the operations of dead instances, and finishes interrupted deletions (which are
    /// safe to finish twice).
    pub(crate) async fn recover(&self) -> Result<()> {
        let store = &self.inner().store;
        let live = self.live_instances().await?;
        let locks = store.locks().await?;
        for lock in locks.iter().filter(|l| !live.contains(&l.owner)) {
            tracing::warn!(lock.owner = %lock.owner, "settling the work of a dead instance: {lock}");
            self.settle_dead(lock).await?;
        }
        // Work in flux without its lock was left by an instance that died between two writes.
        // It is settled only under the cluster's lock, taken here: every operation holds that
        // lock from before it moves the status until after it moves it back, so an operation
        // that started a moment ago is never taken for a dead one, however old the cluster.
        let stale = self.inner().clock.now() - LEASE;
        for status in IN_FLUX {
            for cluster in store.clusters_with_status(status).await? {
                // A new cluster is stored a moment before provisioning takes its lock.
                if status == ClusterStatus::Provisioning && cluster.created >= stale {
                    continue;
                }
                let (project, id) = (cluster.project_id.clone(), cluster.id.clone());
                self.settle_under_lock(&cluster.id, async || {
                    match store.cluster(&project, &id).await? {
                        Some(current) if current.status == status => {
                            self.settle_interrupted_cluster(current).await
                        }
                        _ => Ok(()),
                    }
                })
                .await?;
            }
        }
        for backup in store.backups_with_status(BackupStatus::Creating).await? {
            if backup.created >= stale {
                continue;
            }
            let (project, id) = (backup.project_id.clone(), backup.id.clone());
            self.settle_under_lock(&backup.source_cluster_id, async || {
                match store.backup(&project, &id).await? {
                    Some(current) if current.status == BackupStatus::Creating => {
                        self.settle_interrupted_backup(current).await
                    }
                    _ => Ok(()),
                }
            })
            .await?;
        }
        for backup in store.backups_with_status(BackupStatus::Deleting).await? {
            // One stuck snapshot must not keep the others from being retried.
            let id = backup.id.clone();
            if let Err(error) = self.finish_deleting(backup, false).await {
                tracing::warn!(backup.id = %id, %error, "backup deletion still fails; retried on the next sweep");
            }
        }
        self.settle_stuck_runs(stale).await
    }

    /// Job runs left `started` past the lease with nothing that will end them: claimed by an
    /// instance that died before it linked a backup (failed, saying so), or linked to a backup
    /// that has ended already (closed as the backup ended).
    async fn settle_stuck_runs(&self, stale: chrono::DateTime<chrono::Utc>) -> Result<()> {
        let store = &self.inner().store;
        for mut item in store.started_runs().await? {
            let young = item.start_time >= stale;
            let Some(backup_id) = item.linked_resource.clone() else {
                if young {
                    continue;
                }
                tracing::warn!(history.id = %item.id, job.id = %item.job_id, "settling a run that never started its backup");
                let reason = "Cairn stopped before this run could start its backup".to_owned();
                self.end_run(&mut item, RunEvent::Failed, reason).await?;
                continue;
            };
            let job = store.job(&item.project_id, &item.job_id).await?;
            if job.is_some_and(|j| j.job_type == cairn_model::JobType::ScheduledRestoreTest) {
                // Judged by its own clock (see there).
                self.settle_stuck_restore_test(item, &backup_id).await?;
                continue;
            }
            if young {
                continue;
            }
            let backup = store.backup(&item.project_id, &backup_id).await?;
            match backup {
                // Still being made: its own ending (or its settling) closes the run.
                Some(backup) if backup.status == BackupStatus::Creating => {}
                Some(backup) => self.finish_job_run(&backup, Some(item)).await?,
                None => {
                    let reason = format!("backup {backup_id} of this run is gone");
                    self.end_run(&mut item, RunEvent::Failed, reason).await?;
                }
            }
        }
        Ok(())
    }

    /// Runs `settle` holding the cluster's lock, taken here: nobody else works on the cluster
    /// meanwhile. When someone holds the lock, the cluster is theirs and nothing is done.
    async fn settle_under_lock(
        &self,
        cluster: &cairn_model::ClusterId,
        settle: impl AsyncFnOnce() -> Result<()>,
    ) -> Result<()> {
        let Some(holder) = self.try_lock(cluster, LockKind::Recovery).await? else {
            return Ok(());
        };
        let settled = settle().await;
        self.release(cluster, &holder).await;
        settled
    }

    /// A restore-test run still started that no instance runs died with its instance: it
    /// fails, and its temporary cluster (if any is left) is deleted. A test gives itself up at
    /// its deadline, so with other instances alive (one of them may run it), a run past its
    /// deadline and the lease is known dead; alone, this instance knows what it runs.
    async fn settle_stuck_restore_test(
        &self,
        mut item: cairn_model::HistoryItem,
        backup: &cairn_model::BackupId,
    ) -> Result<()> {
        // Not running here: when no other instance is alive, nobody runs it; otherwise one
        // might, and it is given up only once its deadline has passed too.
        let others_alive = self.live_instances().await?.len() > 1;
        let now = self.inner().clock.now();
        let given_up = if others_alive {
            now - LEASE
                - chrono::TimeDelta::from_std(self.inner().snapshot_deadline)
                    .unwrap_or(chrono::TimeDelta::MAX)
        } else {
            // A beat's grace: a run claimed here a moment ago is not marked running yet.
            now - chrono::TimeDelta::from_std(HEARTBEAT).unwrap_or(LEASE)
        };
        if item.start_time >= given_up || self.runs_here(&item.id) {
            return Ok(());
        }
        let reason = "Cairn stopped while this restore test ran".to_owned();
        self.end_run(&mut item, RunEvent::Failed, reason).await?;
        let scope = crate::Scope::internal(
            item.organization_id.clone(),
            item.project_id.clone(),
            "recovery",
        );
        let leftovers = self.inner().store.clusters(&item.project_id).await?;
        for cluster in leftovers.into_iter().filter(|c| {
            c.source_backup_id.as_ref() == Some(backup)
                && c.created >= item.start_time
                && c.description.starts_with(crate::restore_tests::TEMPORARY)
        }) {
            if let Err(error) = self.delete_cluster(&scope, &cluster.id).await {
                tracing::warn!(cluster.id = %cluster.id, %error, "a restore test's leftover cluster could not be deleted yet");
            }
        }
        Ok(())
    }

    /// Takes a cluster's lock if nobody holds it; `None` when someone does.
    pub(crate) async fn try_lock(
        &self,
        cluster: &cairn_model::ClusterId,
        kind: LockKind,
    ) -> Result<Option<String>> {
        match self.take_lock(cluster, kind).await {
            Ok(holder) => Ok(Some(holder)),
            Err(crate::Error::Conflict { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn settle_dead(&self, lock: &ClusterLock) -> Result<()> {
        let store = &self.inner().store;
        match lock.kind {
            LockKind::Backup => {
                let backup = store
                    .backups_with_status(BackupStatus::Creating)
                    .await?
                    .into_iter()
                    .find(|b| b.id.as_str() == lock.holder_id);
                if let Some(backup) = backup {
                    // Releases the lock too.
                    return self.settle_interrupted_backup(backup).await;
                }
            }
            _ => {
                for status in IN_FLUX {
                    let stuck = store
                        .clusters_with_status(status)
                        .await?
                        .into_iter()
                        .find(|c| c.id == lock.cluster_id);
                    if let Some(cluster) = stuck {
                        self.settle_interrupted_cluster(cluster).await?;
                    }
                }
            }
        }
        store
            .release_lock(&lock.cluster_id, &lock.holder_id)
            .await?;
        Ok(())
    }

    /// Until `shutdown`: every [`HEARTBEAT`], say this instance is alive and settle what dead
    /// instances left. Errors are logged and retried on the next beat.
    pub async fn run_maintenance(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        // The heartbeat beats on its own: a slow sweep (a deletion waiting for a restore, a
        // large gc) must not make this live instance look dead to the others.
        let beating = {
            let services = self.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(HEARTBEAT).await;
                    logged!(
                        services.heartbeat().await,
                        "could not record this instance's heartbeat"
                    );
                }
            })
        };
        let _stop_beating = AbortOnDrop(beating);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(HEARTBEAT) => {}
            }
            logged!(
                self.recover().await,
                "could not settle dead instances' work"
            );
            logged!(
                self.prune_credentials().await,
                "could not prune spent credentials"
            );
            if let Some(engine) = &self.inner().engine {
                if let Err(error) = engine.maintain().await {
                    tracing::warn!(%error, "engine housekeeping failed; retried on the next beat");
                }
            }
        }
    }
}

/// Stops a task when dropped (the heartbeat, when maintenance ends).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::fixture;
    use crate::testkit::SnapshotBehaviour;
    use crate::{Clock, ClusterStore, JobStore};

    #[tokio::test]
    async fn another_instance_starting_leaves_a_live_instances_backup_alone() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        f.engine.snapshots(SnapshotBehaviour::Hold);
        let backup = f
            .services
            .create_backup(&f.scope, &cluster.id, "live")
            .await
            .unwrap();

        let second = f.another_instance(f.clock.clone());
        second.start().await.unwrap();
        assert_eq!(
            f.services
                .get_backup(&f.scope, &backup.id)
                .await
                .unwrap()
                .status,
            BackupStatus::Creating
        );
        assert_eq!(f.store.locks().await.unwrap().len(), 1);

        f.engine.release_snapshots();
        f.services.settle().await;
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
    async fn when_an_instance_dies_a_survivor_settles_its_backup_once_the_lease_runs_out() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        f.engine.snapshots(SnapshotBehaviour::Hold);
        let backup = f
            .services
            .create_backup(&f.scope, &cluster.id, "orphaned")
            .await
            .unwrap();
        let survivor = f.another_instance(f.clock.clone());
        survivor.start().await.unwrap();

        // The first instance stops beating; within the lease nothing happens...
        f.clock.advance(LEASE - TimeDelta::seconds(1));
        survivor.heartbeat().await.unwrap();
        survivor.recover().await.unwrap();
        assert_eq!(
            f.services
                .get_backup(&f.scope, &backup.id)
                .await
                .unwrap()
                .status,
            BackupStatus::Creating
        );

        // ...past it, the survivor's sweep settles the work.
        f.clock.advance(TimeDelta::seconds(2));
        survivor.heartbeat().await.unwrap();
        survivor.recover().await.unwrap();
        let settled = f.services.get_backup(&f.scope, &backup.id).await.unwrap();
        assert_eq!(settled.status, BackupStatus::Defunct);
        assert!(f.store.locks().await.unwrap().is_empty());
        assert!(f.engine.deleted_snapshots().contains(&backup.id));
    }

    #[tokio::test]
    async fn recovery_leaves_alone_a_change_that_starts_on_an_old_cluster_while_it_looks() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        f.clock.advance(LEASE * 2);
        f.services.heartbeat().await.unwrap();
        let (arrived, resume) = f.store.pause_next_clusters_with_status();
        let recovering = {
            let services = f.services.clone();
            tokio::spawn(async move { services.recover().await })
        };
        arrived.await.unwrap();

        // Between recovery's reads, a resize of the (old) cluster starts and runs on.
        f.engine.changes_gate.hold();
        f.services
            .resize_cluster(&f.scope, &cluster.id, cairn_model::InstanceType::M8)
            .await
            .unwrap();
        resume.send(()).unwrap();
        recovering.await.unwrap().unwrap();

        let running = f.services.get_cluster(&f.scope, &cluster.id).await.unwrap();
        assert_eq!(running.status, ClusterStatus::Resizing);
        f.engine.changes_gate.release();
        f.services.settle().await;
        let resized = f.services.get_cluster(&f.scope, &cluster.id).await.unwrap();
        assert_eq!(
            (resized.status, resized.instance_type),
            (ClusterStatus::Available, cairn_model::InstanceType::M8)
        );
        assert!(f.store.locks().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_run_claimed_by_an_instance_that_died_before_its_backup_fails_after_the_lease() {
        use cairn_model::{CreateJobRequest, HistoryStatus, ScheduledBackupData};
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        let request = CreateJobRequest {
            description: "hourly".into(),
            schedule: "0 * * * *".into(),
            data: ScheduledBackupData {
                cluster_id: cluster.id.clone(),
                description: "{cluster}".into(),
                max_backup_count: 3,
            },
        };
        let job = f.services.create_job(&f.scope, &request).await.unwrap();
        // Claimed, and the instance died before it linked a backup.
        let item = f.services.new_run(&job);
        assert!(f.store.claim_run(f.clock.now(), &item).await.unwrap());

        f.services.recover().await.unwrap();
        let history = f.services.job_history(&f.scope, &job.id).await.unwrap();
        assert_eq!(
            history[0].status,
            HistoryStatus::Started,
            "within the lease"
        );

        f.clock.advance(LEASE + TimeDelta::seconds(1));
        f.services.recover().await.unwrap();
        let history = f.services.job_history(&f.scope, &job.id).await.unwrap();
        assert_eq!(history[0].status, HistoryStatus::Failed);
        assert_eq!(
            history[0].details,
            "Cairn stopped before this run could start its backup"
        );
        assert!(history[0].end_time.is_some());
    }

    #[tokio::test]
    async fn an_instance_replacing_a_dead_one_settles_its_backup_at_start_without_waiting() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        f.engine.snapshots(SnapshotBehaviour::Hold);
        let backup = f
            .services
            .create_backup(&f.scope, &cluster.id, "cut short")
            .await
            .unwrap();

        // The first instance was killed a second ago; its successor on the same data
        // directory knows it is dead.
        f.clock.advance(TimeDelta::seconds(1));
        let successor = Services::builder(f.store.clone(), f.clock.clone(), Default::default())
            .engine(f.engine.clone())
            .replaces(Some(f.services.instance().to_owned()))
            .build();
        successor.start().await.unwrap();

        let settled = successor.get_backup(&f.scope, &backup.id).await.unwrap();
        assert_eq!(settled.status, BackupStatus::Defunct);
        assert!(f.store.locks().await.unwrap().is_empty());
        assert!(f.engine.deleted_snapshots().contains(&backup.id));
        f.engine.release_snapshots();
    }
}
