//! The core's `Engine` port on this machine: clusters are node processes, backups are
//! snapshots in the region's repository.
//!
//! ```text
//! ROOT/<region>/clusters/<cluster id>/layout.json   volumes and ports, kept for the cluster's life
//! ROOT/<region>/clusters/<cluster id>/node-N/       a node's volume
//! ROOT/<region>/snapshots/                          the region's snapshot repository
//! ```
//!
//! Here: the engine, where clusters live, and the `Engine` port itself; `repositories` opens
//! and creates the regions' repositories, `clusters` asks running nodes, `snapshots` finds a
//! backup's snapshot and collects what deleted ones leave.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use cairn_core::ports::{ClusterChange, Engine, EngineError, ProgressSink, SnapshotFacts};
use cairn_model::{Backup, Cluster, ClusterAddresses, ClusterHealth, NodeState, Progress};
use cairn_snapshot::Repository;

use crate::cluster::{ClusterLayout, Clusters, Health, Launcher};
use crate::volume::{snapshot_live_volume, LiveSnapshot};

mod clusters;
mod repositories;
mod snapshots;

use clusters::{addresses, set_quota, stats};
pub use repositories::{RepositoryCheck, RepositoryPlace, RepositorySettings};
use snapshots::{clean_restored_volume, find_snapshot, Collection};

/// Chunk files of 256 MiB, as KurrentDB's.
const CHUNK_SIZE: u64 = 256 << 20;

pub struct LocalEngine {
    root: PathBuf,
    clusters: Clusters,
    snapshot_read_limit: Option<u64>,
    repository_settings: RepositorySettings,
    /// Each region's repository, opened once (it remembers the manifests it has read).
    repositories: tokio::sync::Mutex<HashMap<String, Repository>>,
    /// When each region was last collected, and whether a deletion since wants it again.
    collections: std::sync::Mutex<HashMap<String, Collection>>,
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
            repository_settings: RepositorySettings::default(),
            repositories: tokio::sync::Mutex::new(HashMap::new()),
            collections: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Backups read a node's volume at most this many bytes per second (`None`: no limit), so
    /// that they leave the live node disk bandwidth.
    pub fn with_snapshot_read_limit(mut self, bytes_per_second: Option<u64>) -> LocalEngine {
        self.snapshot_read_limit = bytes_per_second;
        self
    }

    /// Where the regions' snapshot repositories are and how they are encrypted.
    pub fn with_repositories(mut self, settings: RepositorySettings) -> LocalEngine {
        self.repository_settings = settings;
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
        // The layout first: whatever fails after it, deleting the cluster finds what to remove.
        self.save_layout(cluster, &layout)?;
        if let Some(backup) = source {
            if backup.region != cluster.region {
                return Err(EngineError::Failed(format!(
                    "backup {} is in region {}, the cluster in {}: regions keep separate repositories",
                    backup.id, backup.region, cluster.region
                )));
            }
            let repository = self.repository(&backup.region).await?;
            let snapshot = find_snapshot(&repository, backup).await?;
            // Every node starts from the same snapshot (their logs are byte-identical, as
            // replication keeps them), restored under one lock so it cannot go in between.
            let volumes: Vec<&Path> = layout.nodes.iter().map(|n| n.volume.as_path()).collect();
            repository
                .restore_each(&snapshot, &volumes, |_| {})
                .await
                .map_err(|e| failed("restoring the backup", e))?;
            for volume in volumes {
                clean_restored_volume(volume);
            }
        }
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
        // What the snapshot holds: the log up to the checkpoint it read first.
        let checkpoint = summary
            .first_read
            .get(crate::log::CHECKPOINT)
            .and_then(|bytes| bytes.get(..8))
            .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
        // A snapshot that was taken is a backup, whether or not its contents can be read now;
        // a leader that just died is back within seconds (supervision), so it is asked again.
        let mut contents = None;
        for attempt in 0..5 {
            match stats(&layout, Some(checkpoint)).await {
                Ok(found) => {
                    contents = Some(found);
                    break;
                }
                Err(error) if attempt == 4 => {
                    tracing::warn!(backup.id = %backup.id, %error, "the snapshot's contents could not be read; restore tests of it will say so");
                }
                Err(_) => tokio::time::sleep(Duration::from_secs(2)).await,
            }
        }
        Ok(SnapshotFacts {
            bytes_stored: summary.stored_bytes,
            bytes_new: summary.new_bytes,
            file_count: summary.files,
            checksum: summary.id.hex(),
            available_node_count: cluster.topology.node_count(),
            contents,
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
        // A deletion waits a little for whoever uses the snapshot; longer, and the backup
        // stays deleting and the next pass tries again.
        let repository = self
            .repository(&backup.region)
            .await?
            .with_lock_wait(Duration::from_secs(10));
        // A finished backup names its snapshot; one cut short or given up on is looked for by
        // its label, waiting until its snapshot has stopped writing (it may land late).
        let named = backup
            .checksum
            .as_deref()
            .and_then(cairn_snapshot::Hash32::parse);
        match named {
            Some(id) => repository.forget(&id).await.map(|_| ()),
            None => repository
                .forget_labelled(backup.id.as_str())
                .await
                .map(|_| ()),
        }
        .map_err(|e| match e {
            cairn_snapshot::Error::Locked(holder) => EngineError::Busy(format!(
                "the snapshot is in use ({holder}); it is deleted once that ends"
            )),
            e => failed("deleting the snapshot", e),
        })?;
        // The snapshot is gone once its manifest is: freeing its data is the region's gc's
        // business (also when nothing was found: a backup cut short leaves packs but no
        // snapshot), and a gc that fails is not this deletion failing.
        if let Err(error) = self.collect_soon(&backup.region).await {
            tracing::warn!(region = %backup.region, %error, "garbage collection failed; retried by the maintenance pass");
        }
        Ok(())
    }

    async fn contents(
        &self,
        cluster: &Cluster,
    ) -> Result<Option<cairn_model::ClusterContents>, EngineError> {
        Ok(Some(stats(&self.layout(cluster)?, None).await?))
    }

    async fn verify_snapshot(
        &self,
        backup: &Backup,
    ) -> Result<cairn_core::VerifiedFacts, EngineError> {
        let repository = self.repository(&backup.region).await?;
        let snapshot = find_snapshot(&repository, backup).await?;
        let report = repository
            .verify(&snapshot, cairn_snapshot::VerifyMode::ReadAll)
            .await
            .map_err(|e| EngineError::Failed(e.to_string()))?;
        Ok(cairn_core::VerifiedFacts {
            files: report.files,
            chunks: report.chunks_checked,
            bytes: report.bytes_checked,
        })
    }

    async fn repository_facts(
        &self,
        region: &str,
    ) -> Result<Option<cairn_model::RepositoryFacts>, EngineError> {
        Ok(Some(match self.repository(region).await {
            Ok(repository) => self.facts_of(region, &repository),
            Err(error) => cairn_model::RepositoryFacts {
                region: region.to_owned(),
                location: self.repository_place(region).describe(),
                encrypted: false,
                key_fingerprint: None,
                key_file: None,
                problem: Some(error.to_string()),
            },
        }))
    }

    async fn maintain(&self) -> Result<(), EngineError> {
        // Every region is tried; one failing does not keep the others from being collected.
        let mut first_failure = None;
        for region in self.collections_due() {
            if let Err(error) = self.collect_garbage(&region).await {
                first_failure.get_or_insert(error);
            }
        }
        first_failure.map_or(Ok(()), Err)
    }

    async fn apply(&self, cluster: &Cluster, change: &ClusterChange) -> Result<(), EngineError> {
        let root = self.cluster_root(&cluster.region, cluster.id.as_str());
        if *change == ClusterChange::Delete && !root.join("layout.json").exists() {
            // Provisioning failed before any node had a place: nothing runs, remove what is left.
            return match std::fs::remove_dir_all(&root) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(failed(&root.display().to_string(), e))
                }
                _ => Ok(()),
            };
        }
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
                std::fs::remove_dir_all(&root).map_err(|e| failed(&root.display().to_string(), e))
            }
        }
    }
}

#[cfg(test)]
mod tests;
