//! What the console's detail pages show in one answer: an entity with what belongs to it.
//! Computed by the core, rendered by the console (server and browser alike).

use crate::entities::{Backup, Cluster, HistoryItem, Job};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One node of a cluster, as its last probe saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeState {
    /// 0 leads a three-node cluster.
    pub index: u8,
    pub address: String,
    /// `leader`, `follower` or `single`.
    pub role: String,
    /// Whether it answered and keeps up.
    pub healthy: bool,
    /// A sentence: its committed position, or what is wrong.
    pub detail: String,
}

/// A cluster's page: the cluster, its nodes, its backups (newest first), who holds its lock,
/// and the index the next backup's label will use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterOverview {
    pub cluster: Cluster,
    pub nodes: Vec<NodeState>,
    /// When supervision probed `nodes`; none before its first probe.
    #[serde(default)]
    pub nodes_probed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub backups: Vec<Backup>,
    /// "cluster … is locked by backup … (manual)", when locked.
    pub lock: Option<String>,
    pub next_backup_index: u64,
}

/// A job as the jobs list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobOverview {
    pub job: Job,
    /// The source cluster's name (the job keeps working, and failing, if it is gone).
    pub cluster_description: Option<String>,
    /// When it runs next; none while paused or deleted.
    pub next_run: Option<DateTime<Utc>>,
    pub last_run: Option<HistoryItem>,
}

/// A job's page: its overview, its backups (newest first) and its runs (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobDetail {
    pub overview: JobOverview,
    pub backups: Vec<Backup>,
    pub history: Vec<HistoryItem>,
}
