//! The engine port: what runs clusters and takes their snapshots.

use crate::error::Result;
use async_trait::async_trait;
use cairn_model::{
    Backup, Cluster, ClusterAddresses, ClusterHealth, InstanceType, NodeState, Progress,
};
use std::sync::Arc;

/// What a finished snapshot is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFacts {
    pub bytes_stored: u64,
    pub bytes_new: u64,
    pub file_count: u64,
    pub checksum: String,
    /// Nodes whose data the snapshot can restore.
    pub available_node_count: u8,
    /// What the snapshot holds, when the engine can tell: a restore must hold exactly this.
    pub contents: Option<cairn_model::ClusterContents>,
}

/// What a verification of a snapshot read and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedFacts {
    pub files: u64,
    pub chunks: u64,
    pub bytes: u64,
}

/// Why the engine could not do something, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A node not responding, or behind on replication.
    #[error("the cluster is not healthy: {0}")]
    Unhealthy(String),
    /// Someone else is using what this needs (a restore of a snapshot being deleted, say):
    /// it is for later, not a failure to announce.
    #[error("{0}")]
    Busy(String),
    #[error("{0}")]
    Failed(String),
}

/// Receives progress reports while a snapshot is taken.
pub type ProgressSink = Arc<dyn Fn(Progress) + Send + Sync>;

/// A change to a running cluster. Each runs under the cluster's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterChange {
    ExpandDisk {
        disk_size_gb: u32,
    },
    Resize {
        instance_type: InstanceType,
    },
    Upgrade {
        server_version: String,
        server_version_tag: String,
    },
    /// Stop the nodes and remove their volumes.
    Delete,
}

/// Runs clusters and takes their snapshots: the embedded engine, or another provider.
#[async_trait]
pub trait Engine: Send + Sync + 'static {
    /// Creates the cluster's nodes (from a backup's snapshot when `source` is given) and answers
    /// where they listen once every node is healthy.
    async fn provision(
        &self,
        cluster: &Cluster,
        source: Option<&Backup>,
    ) -> Result<ClusterAddresses, EngineError>;
    /// Snapshots a healthy node of the cluster into the region's repository.
    async fn snapshot(
        &self,
        cluster: &Cluster,
        backup: &Backup,
        progress: ProgressSink,
    ) -> Result<SnapshotFacts, EngineError>;
    /// Removes a backup's snapshot, also one that finished after its backup was given up on.
    async fn delete_snapshot(&self, backup: &Backup) -> Result<(), EngineError>;
    /// Applies a change (disk, size, version, deletion) to the cluster's nodes.
    async fn apply(&self, cluster: &Cluster, change: &ClusterChange) -> Result<(), EngineError>;
    /// The cluster's health from real probes. Engines that cannot tell say `Ok`.
    async fn health(&self, _cluster: &Cluster) -> Result<ClusterHealth, EngineError> {
        Ok(ClusterHealth::Ok)
    }
    /// Brings up whatever node of the cluster is not running (after a restart of Cairn).
    async fn resume(&self, _cluster: &Cluster) -> Result<(), EngineError> {
        Ok(())
    }
    /// Each node's state from a probe now; empty when the engine cannot tell.
    async fn nodes(&self, _cluster: &Cluster) -> Result<Vec<NodeState>, EngineError> {
        Ok(Vec::new())
    }
    /// Reads every chunk of the backup's snapshot and checks every hash; an error says what is
    /// damaged or missing.
    async fn verify_snapshot(&self, _backup: &Backup) -> Result<VerifiedFacts, EngineError> {
        Err(EngineError::Failed(
            "this engine cannot verify backups".into(),
        ))
    }
    /// What the cluster's log holds now (`None` when the engine cannot tell).
    async fn contents(
        &self,
        _cluster: &Cluster,
    ) -> Result<Option<cairn_model::ClusterContents>, EngineError> {
        Ok(None)
    }
    /// Where the region's backups are kept (`None` when the engine cannot tell).
    async fn repository_facts(
        &self,
        _region: &str,
    ) -> Result<Option<cairn_model::RepositoryFacts>, EngineError> {
        Ok(None)
    }
    /// Housekeeping put off earlier (garbage collection after deletions, say); called by the
    /// maintenance sweep.
    async fn maintain(&self) -> Result<(), EngineError> {
        Ok(())
    }
}
