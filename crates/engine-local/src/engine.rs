//! The core's `Engine` port on this machine: clusters are node processes, backups are
//! snapshots in the region's repository.
//!
//! ```text
//! ROOT/<region>/clusters/<cluster id>/layout.json   volumes and ports, kept for the cluster's life
//! ROOT/<region>/clusters/<cluster id>/node-N/       a node's volume
//! ROOT/<region>/snapshots/                          the region's snapshot repository
//! ```

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use cairn_core::ports::{ClusterChange, Engine, EngineError, ProgressSink, SnapshotFacts};
use cairn_model::{Backup, Cluster, ClusterAddresses, ClusterHealth, NodeState, Progress};
use cairn_snapshot::{InitOptions, OpenOptions, Repository};

use crate::cluster::{ClusterLayout, Clusters, Health, Launcher};
use crate::volume::{snapshot_live_volume, LiveSnapshot};

/// Chunk files of 256 MiB, as KurrentDB's.
const CHUNK_SIZE: u64 = 256 << 20;

pub struct LocalEngine {
    root: PathBuf,
    clusters: Clusters,
    snapshot_read_limit: Option<u64>,
}

fn failed(context: &str, error: impl std::fmt::Display) -> EngineError {
    EngineError::Failed(format!("{context}: {error}"))
}

impl LocalEngine {
    pub fn new(root: impl Into<PathBuf>, launcher: Launcher) -> LocalEngine {
        LocalEngine {
            root: root.into(),
            clusters: Clusters::new(launcher),
            snapshot_read_limit: None,
        }
    }

    /// Backups read a node's volume at most this many bytes per second (`None`: no limit), so
    /// that they leave the live node disk bandwidth.
    pub fn with_snapshot_read_limit(mut self, bytes_per_second: Option<u64>) -> LocalEngine {
        self.snapshot_read_limit = bytes_per_second;
        self
    }

    /// Where regions, clusters and repositories live.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn cluster_root(&self, region: &str, cluster: &str) -> PathBuf {
        self.root.join(region).join("clusters").join(cluster)
    }

    fn layout(&self, cluster: &Cluster) -> Result<ClusterLayout, EngineError> {
        let path = self
            .cluster_root(&cluster.region, cluster.id.as_str())
            .join("layout.json");
        let text =
            std::fs::read_to_string(&path).map_err(|e| failed(&path.display().to_string(), e))?;
        serde_json::from_str(&text).map_err(|e| failed(&path.display().to_string(), e))
    }

    fn save_layout(&self, cluster: &Cluster, layout: &ClusterLayout) -> Result<(), EngineError> {
        let path = self
            .cluster_root(&cluster.region, cluster.id.as_str())
            .join("layout.json");
        let text = serde_json::to_string_pretty(layout).expect("a layout serializes");
        let partial = path.with_extension("json.partial");
        std::fs::write(&partial, text)
            .and_then(|()| std::fs::rename(&partial, &path))
            .map_err(|e| failed(&path.display().to_string(), e))
    }

    /// The region's repository, created on first use.
    async fn repository(&self, region: &str) -> Result<Repository, EngineError> {
        self.repository_with(region, OpenOptions::default()).await
    }

    async fn repository_with(
        &self,
        region: &str,
        options: OpenOptions,
    ) -> Result<Repository, EngineError> {
        let path = self.root.join(region).join("snapshots");
        let url = path.display().to_string();
        if path.join("config").exists() {
            Repository::open_url(&url, options).await
        } else {
            Repository::init_url(&url, InitOptions::default(), options).await
        }
        .map_err(|e| failed("snapshot repository", e))
    }

    /// Frees what no snapshot of the region needs any more: deleted backups' data, and what a
    /// backup cut short left (packs written before Cairn was killed, say). Waits briefly for
    /// running backups; when they take longer, the next deletion collects it.
    pub async fn collect_garbage(&self, region: &str) -> Result<(), EngineError> {
        let options = OpenOptions {
            locks: cairn_snapshot::LockSettings {
                wait: std::time::Duration::from_secs(5),
                ..Default::default()
            },
            ..OpenOptions::default()
        };
        let repository = self.repository_with(region, options).await?;
        match repository.gc().await {
            Ok(report) => {
                tracing::info!(region, ?report, "snapshot repository collected");
                Ok(())
            }
            Err(cairn_snapshot::Error::Locked(holder)) => {
                tracing::info!(region, %holder, "garbage collection put off: the repository is in use");
                Ok(())
            }
            Err(error) => Err(failed("collecting the snapshot repository", error)),
        }
    }

    /// The cluster's health from real probes, with the reason when it is not `Ok`.
    pub async fn probe(&self, cluster: &Cluster) -> Result<Health, EngineError> {
        Ok(self.clusters.health(&self.layout(cluster)?).await)
    }

    /// Starts whatever node of any known cluster is not running (after a Cairn restart, say).
    pub async fn ensure_running(&self, cluster: &Cluster) -> Result<(), EngineError> {
        let layout = self.layout(cluster)?;
        self.clusters
            .ensure_running(&layout)
            .await
            .map(|_| ())
            .map_err(|e| failed("starting nodes", e))
    }

    /// Where the cluster's nodes listen.
    pub fn addresses(&self, cluster: &Cluster) -> Result<Vec<String>, EngineError> {
        Ok(self
            .layout(cluster)?
            .nodes
            .iter()
            .map(|n| n.address())
            .collect())
    }
}

fn addresses(layout: &ClusterLayout) -> ClusterAddresses {
    let leader = format!("http://{}", layout.leader().address());
    ClusterAddresses {
        tcp: layout.nodes.iter().map(|n| n.address()).collect(),
        grpc: leader.clone(),
        ui: leader,
    }
}

#[async_trait]
impl Engine for LocalEngine {
    async fn provision(
        &self,
        cluster: &Cluster,
        source: Option<&Backup>,
    ) -> Result<ClusterAddresses, EngineError> {
        let root = self.cluster_root(&cluster.region, cluster.id.as_str());
        std::fs::create_dir_all(&root).map_err(|e| failed(&root.display().to_string(), e))?;
        let quota = u64::from(cluster.disk_size_gb) << 30;
        let layout = ClusterLayout::new(&root, cluster.topology.node_count(), quota, CHUNK_SIZE)
            .map_err(|e| failed("choosing ports", e))?;
        if let Some(backup) = source {
            if backup.region != cluster.region {
                return Err(EngineError::Failed(format!(
                    "backup {} is in region {}, the cluster in {}: regions keep separate repositories",
                    backup.id, backup.region, cluster.region
                )));
            }
            let repository = self.repository(&backup.region).await?;
            let snapshot = find_snapshot(&repository, backup).await?;
            // Every node starts from the same snapshot: their logs are byte-identical, as
            // replication keeps them.
            for node in &layout.nodes {
                repository
                    .restore(&snapshot, &node.volume, |_| {})
                    .await
                    .map_err(|e| failed("restoring the backup", e))?;
                clean_restored_volume(&node.volume);
            }
        }
        self.save_layout(cluster, &layout)?;
        self.clusters
            .ensure_running(&layout)
            .await
            .map_err(|e| failed("starting nodes", e))?;
        Ok(addresses(&layout))
    }

    async fn snapshot(
        &self,
        cluster: &Cluster,
        backup: &Backup,
        progress: ProgressSink,
    ) -> Result<SnapshotFacts, EngineError> {
        let layout = self.layout(cluster)?;
        match self.clusters.health(&layout).await {
            Health::Ok => {}
            Health::Degraded(reason) | Health::Down(reason) => {
                return Err(EngineError::Unhealthy(reason))
            }
        }
        let repository = self.repository(&cluster.region).await?;
        // The leader has every acknowledged append; followers are within the health limit.
        let volume = layout.leader().volume.clone();
        let label = backup.id.as_str().to_owned();
        let options = LiveSnapshot {
            label,
            read_limit: self.snapshot_read_limit,
        };
        let summary = snapshot_live_volume(&repository, &volume, options, move |p| {
            progress(Progress {
                bytes_done: p.bytes_done,
                bytes_total: p.bytes_total,
            })
        })
        .await
        .map_err(|e| failed("snapshot", e))?;
        Ok(SnapshotFacts {
            bytes_stored: summary.stored_bytes,
            bytes_new: summary.new_bytes,
            file_count: summary.files,
            checksum: summary.id.hex(),
            available_node_count: cluster.topology.node_count(),
        })
    }

    async fn health(&self, cluster: &Cluster) -> Result<ClusterHealth, EngineError> {
        Ok(match self.clusters.health(&self.layout(cluster)?).await {
            Health::Ok => ClusterHealth::Ok,
            Health::Degraded(_) => ClusterHealth::Degraded,
            Health::Down(_) => ClusterHealth::Down,
        })
    }

    async fn resume(&self, cluster: &Cluster) -> Result<(), EngineError> {
        self.ensure_running(cluster).await
    }

    async fn nodes(&self, cluster: &Cluster) -> Result<Vec<NodeState>, EngineError> {
        Ok(self.clusters.node_states(&self.layout(cluster)?).await)
    }

    async fn delete_snapshot(&self, backup: &Backup) -> Result<(), EngineError> {
        let repository = self.repository(&backup.region).await?;
        let found = repository
            .find_by_label(backup.id.as_str())
            .await
            .map_err(|e| failed("snapshot repository", e))?;
        for snapshot in found {
            repository
                .delete(&snapshot.id)
                .await
                .map_err(|e| failed("deleting the snapshot", e))?;
        }
        // Also when nothing was found: a backup cut short leaves packs but no snapshot.
        self.collect_garbage(&backup.region).await
    }

    async fn apply(&self, cluster: &Cluster, change: &ClusterChange) -> Result<(), EngineError> {
        let mut layout = self.layout(cluster)?;
        match change {
            ClusterChange::ExpandDisk { disk_size_gb } => {
                layout.quota_bytes = u64::from(*disk_size_gb) << 30;
                self.save_layout(cluster, &layout)?;
                set_quota(&layout).await
            }
            // One engine binary serves every "version" and "size" here: record and roll.
            ClusterChange::Resize { .. } | ClusterChange::Upgrade { .. } => {
                for node in layout.nodes.iter().rev() {
                    crate::cluster::stop_node(node)
                        .await
                        .map_err(|e| failed("rolling restart", e))?;
                    self.clusters
                        .ensure_running(&layout)
                        .await
                        .map_err(|e| failed("rolling restart", e))?;
                }
                Ok(())
            }
            ClusterChange::Delete => {
                self.clusters
                    .stop(&layout)
                    .await
                    .map_err(|e| failed("stopping nodes", e))?;
                let root = self.cluster_root(&cluster.region, cluster.id.as_str());
                std::fs::remove_dir_all(&root).map_err(|e| failed(&root.display().to_string(), e))
            }
        }
    }
}

async fn find_snapshot(
    repository: &Repository,
    backup: &Backup,
) -> Result<cairn_snapshot::Hash32, EngineError> {
    let found = repository
        .find_by_label(backup.id.as_str())
        .await
        .map_err(|e| failed("snapshot repository", e))?;
    found.last().map(|s| s.id).ok_or_else(|| {
        EngineError::Failed(format!(
            "no snapshot of backup {} in region {}",
            backup.id, backup.region
        ))
    })
}

/// A restored volume carries its source's pid file and lock file: neither means anything here.
fn clean_restored_volume(volume: &Path) {
    let _ = std::fs::remove_file(volume.join(crate::node::PID_FILE));
    let _ = std::fs::remove_file(volume.join("node.log"));
}

async fn set_quota(layout: &ClusterLayout) -> Result<(), EngineError> {
    let client = reqwest::Client::new();
    for node in &layout.nodes {
        let response = client
            .put(format!("http://{}/quota", node.address()))
            .json(&serde_json::json!({ "bytes": layout.quota_bytes }))
            .send()
            .await
            .map_err(|e| failed("raising the disk quota", e))?;
        if !response.status().is_success() {
            return Err(failed("raising the disk quota", response.status()));
        }
    }
    Ok(())
}
