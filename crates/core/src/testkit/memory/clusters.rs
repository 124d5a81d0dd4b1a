//! Clusters, locks and heartbeats, in memory.

use super::InMemoryStore;
use crate::error::Result;
use crate::locks::{ClusterLock, LockOutcome};
use crate::ports::{ClusterPatch, ClusterStore};
use async_trait::async_trait;
use cairn_model::{Cluster, ClusterId, ClusterStatus, ProjectId};
use chrono::{DateTime, Utc};

#[async_trait]
impl ClusterStore for InMemoryStore {
    async fn clusters(&self, project: &ProjectId) -> Result<Vec<Cluster>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .clusters
            .rows
            .iter()
            .filter(|c| &c.project_id == project && c.status != ClusterStatus::Deleted)
            .cloned()
            .collect())
    }

    async fn cluster(&self, project: &ProjectId, id: &ClusterId) -> Result<Option<Cluster>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .clusters
            .get(id)
            .filter(|c| &c.project_id == project)
            .cloned())
    }

    async fn insert_cluster(&self, cluster: &Cluster) -> Result<()> {
        self.state
            .lock()
            .unwrap()
            .clusters
            .insert(cluster.id.clone(), cluster.clone());
        Ok(())
    }

    async fn patch_cluster(&self, id: &ClusterId, patch: &ClusterPatch) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        let Some(cluster) = state.clusters.get_mut(id) else {
            return Ok(false);
        };
        patch.apply_to(cluster);
        Ok(true)
    }

    async fn clusters_with_status(&self, status: ClusterStatus) -> Result<Vec<Cluster>> {
        self.clusters_pause.here().await;
        let state = self.state.lock().unwrap();
        Ok(state
            .clusters
            .rows
            .iter()
            .filter(|c| c.status == status)
            .cloned()
            .collect())
    }

    async fn acquire_lock(&self, lock: &ClusterLock) -> Result<LockOutcome> {
        let mut state = self.state.lock().unwrap();
        if let Some(holder) = state.locks.get(&lock.cluster_id) {
            return Ok(LockOutcome::HeldBy(holder.clone()));
        }
        state.locks.insert(lock.cluster_id.clone(), lock.clone());
        Ok(LockOutcome::Acquired)
    }

    async fn release_lock(&self, cluster: &ClusterId, holder_id: &str) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        if state
            .locks
            .get(cluster)
            .is_some_and(|l| l.holder_id == holder_id)
        {
            state.locks.remove(cluster);
            return Ok(true);
        }
        Ok(false)
    }

    async fn locks(&self) -> Result<Vec<ClusterLock>> {
        let state = self.state.lock().unwrap();
        let mut locks: Vec<_> = state.locks.values().cloned().collect();
        locks.sort_by_key(|l| l.acquired_at);
        Ok(locks)
    }

    async fn heartbeat(&self, instance: &str, at: DateTime<Utc>) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state.heartbeats.insert(instance.to_owned(), at);
        state
            .heartbeats
            .retain(|_, seen| *seen >= at - chrono::TimeDelta::days(1));
        Ok(())
    }

    async fn heartbeats(&self) -> Result<Vec<(String, DateTime<Utc>)>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .heartbeats
            .iter()
            .map(|(id, at)| (id.clone(), *at))
            .collect())
    }
}
