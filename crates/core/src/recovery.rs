//! Every state that is not final has a way out, also when the Cairn instance running an
//! operation dies. Each instance heartbeats; every operation holds its cluster's lock, which
//! names the instance that owns it. An operation whose owner has been silent for longer than
//! [`LEASE`] is dead: whoever notices (on start, or in the periodic sweep) settles it —
//! backups `creating` become defunct, clusters mid-change are settled, the lock is released.
//! Live instances' operations are never touched.

use crate::error::Result;
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
        // An operation leaves no lock-less traces but for a moment (a new cluster is stored,
        // then locked): anything in flux without a lock for longer than the lease is orphaned.
        let locked: HashSet<_> = store
            .locks()
            .await?
            .into_iter()
            .map(|l| l.cluster_id)
            .collect();
        let stale = self.inner().clock.now() - LEASE;
        for status in IN_FLUX {
            for cluster in store.clusters_with_status(status).await? {
                if !locked.contains(&cluster.id) && cluster.created < stale {
                    self.settle_interrupted_cluster(cluster).await?;
                }
            }
        }
        for backup in store.backups_with_status(BackupStatus::Creating).await? {
            if !locked.contains(&backup.source_cluster_id) && backup.created < stale {
                self.settle_interrupted_backup(backup).await?;
            }
        }
        for backup in store.backups_with_status(BackupStatus::Deleting).await? {
            // One stuck snapshot must not keep the others from being retried.
            let id = backup.id.clone();
            if let Err(error) = self.finish_deleting(backup, false).await {
                tracing::warn!(backup.id = %id, %error, "backup deletion still fails; retried on the next sweep");
            }
        }
        Ok(())
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
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(HEARTBEAT) => {}
            }
            if let Err(error) = self.heartbeat().await {
                tracing::error!(%error, "could not record this instance's heartbeat");
            }
            if let Err(error) = self.recover().await {
                tracing::error!(%error, "could not settle dead instances' work");
            }
            if let Err(error) = self.prune_credentials().await {
                tracing::error!(%error, "could not prune spent credentials");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows_tests::fixture;
    use crate::testkit::SnapshotBehaviour;
    use crate::Store;

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
