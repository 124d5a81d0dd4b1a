//! Clusters, the lock that lets one operation at a time change each, and the heartbeats of
//! the instances holding those locks.

use crate::error::Result;
use crate::locks::{ClusterLock, LockOutcome};
use async_trait::async_trait;
use cairn_model::{
    Cluster, ClusterAddresses, ClusterHealth, ClusterId, ClusterStatus, InstanceType, ProjectId,
};
use chrono::{DateTime, Utc};

/// Clusters and their locks.
///
/// Instance heartbeats live here, beside the locks, rather than with tenancy: a lock's owner is
/// an instance, and a lock is taken back exactly when its owner's heartbeat stops (recovery
/// reads the two together); nothing about organizations or projects depends on them.
#[async_trait]
pub trait ClusterStore: Send + Sync {
    /// Clusters of one project that are not deleted, oldest first.
    async fn clusters(&self, project: &ProjectId) -> Result<Vec<Cluster>>;
    async fn cluster(&self, project: &ProjectId, id: &ClusterId) -> Result<Option<Cluster>>;
    async fn insert_cluster(&self, cluster: &Cluster) -> Result<()>;
    /// Writes the fields the patch sets, and only those, in one statement: a concurrent write
    /// of another field (health by the probes, a rename) is kept. `false` when no such cluster.
    async fn patch_cluster(&self, id: &ClusterId, patch: &ClusterPatch) -> Result<bool>;
    /// Clusters of every project in one status (used to settle unfinished work on start).
    async fn clusters_with_status(&self, status: ClusterStatus) -> Result<Vec<Cluster>>;

    /// Takes the cluster's lock if nobody holds it; otherwise says who does. Atomic.
    async fn acquire_lock(&self, lock: &ClusterLock) -> Result<LockOutcome>;
    /// Releases the cluster's lock if `holder_id` holds it; answers whether it did.
    async fn release_lock(&self, cluster: &ClusterId, holder_id: &str) -> Result<bool>;
    async fn locks(&self) -> Result<Vec<ClusterLock>>;

    /// Records that an instance is alive at `at` (and forgets instances silent for a day).
    async fn heartbeat(&self, instance: &str, at: DateTime<Utc>) -> Result<()>;
    /// Every known instance with its last heartbeat.
    async fn heartbeats(&self) -> Result<Vec<(String, DateTime<Utc>)>>;
}

/// The fields of a cluster one write changes; what is `None` stays as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterPatch {
    pub status: Option<ClusterStatus>,
    pub health: Option<ClusterHealth>,
    pub addresses: Option<ClusterAddresses>,
    pub disk_size_gb: Option<u32>,
    pub instance_type: Option<InstanceType>,
    /// The server version and its tag, together.
    pub server_version: Option<(String, String)>,
    pub description: Option<String>,
    pub protected: Option<bool>,
}

impl ClusterPatch {
    pub fn status(status: ClusterStatus) -> ClusterPatch {
        ClusterPatch {
            status: Some(status),
            ..ClusterPatch::default()
        }
    }

    /// The patch applied to a cluster in memory (what the store does to its row).
    pub fn apply_to(&self, cluster: &mut Cluster) {
        let ClusterPatch {
            status,
            health,
            addresses,
            disk_size_gb,
            instance_type,
            server_version,
            description,
            protected,
        } = self.clone();
        if let Some(status) = status {
            cluster.status = status;
        }
        if let Some(health) = health {
            cluster.health = health;
        }
        if let Some(addresses) = addresses {
            cluster.addresses = addresses;
        }
        if let Some(disk) = disk_size_gb {
            cluster.disk_size_gb = disk;
        }
        if let Some(instance_type) = instance_type {
            cluster.instance_type = instance_type;
        }
        if let Some((version, tag)) = server_version {
            cluster.server_version = version;
            cluster.server_version_tag = tag;
        }
        if let Some(description) = description {
            cluster.description = description;
        }
        if let Some(protected) = protected {
            cluster.protected = protected;
        }
    }
}
