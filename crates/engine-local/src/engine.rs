//! The core's `Engine` port on this machine: clusters are node processes, backups are
//! snapshots in the region's repository.
//!
//! ```text
//! ROOT/<region>/clusters/<cluster id>/layout.json   volumes and ports, kept for the cluster's life
//! ROOT/<region>/clusters/<cluster id>/node-N/       a node's volume
//! ROOT/<region>/snapshots/                          the region's snapshot repository
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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
    repository_settings: RepositorySettings,
    /// Each region's repository, opened once (it remembers the manifests it has read).
    repositories: tokio::sync::Mutex<HashMap<String, Repository>>,
    /// When each region was last collected, and whether a deletion since wants it again.
    collections: std::sync::Mutex<HashMap<String, Collection>>,
}

/// Where each region's snapshot repository is kept and how it is opened.
#[derive(Debug, Clone, Default)]
pub struct RepositorySettings {
    /// Regions whose repository is somewhere else than `ROOT/<region>/snapshots`.
    pub places: HashMap<String, RepositoryPlace>,
    /// The key file encrypted repositories are opened with.
    pub key_file: Option<PathBuf>,
    /// Whether new repositories are encrypted with that key (made on first use, mode 0600).
    pub encrypt_new: bool,
}

/// A repository somewhere: `file:///path`, a plain path, or `s3://bucket/prefix` with how to
/// reach the S3-compatible service.
#[derive(Debug, Clone, Default)]
pub struct RepositoryPlace {
    pub url: String,
    pub s3: cairn_snapshot::S3Settings,
}

impl RepositoryPlace {
    fn storage(
        &self,
    ) -> Result<std::sync::Arc<dyn cairn_snapshot::Storage>, cairn_snapshot::Error> {
        Ok(if self.url.starts_with("s3://") {
            std::sync::Arc::new(cairn_snapshot::ObjectStorage::s3(&self.url, &self.s3)?)
        } else {
            std::sync::Arc::new(cairn_snapshot::ObjectStorage::create(&self.url)?)
        })
    }

    /// Where it is, as people read it: credentials are never in it (an endpoint written
    /// `https://user:secret@host` shows as `https://host`).
    pub fn describe(&self) -> String {
        match (&self.s3.endpoint, self.url.starts_with("s3://")) {
            (Some(endpoint), true) => format!("{} at {}", self.url, without_userinfo(endpoint)),
            _ => self.url.clone(),
        }
    }
}

/// `scheme://user:secret@host/…` without `user:secret@`.
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// What opening the regions' repositories found (see `LocalEngine::check_repositories`).
#[derive(Debug, Default)]
pub struct RepositoryCheck {
    pub ready: Vec<cairn_model::RepositoryFacts>,
    /// Regions with no repository at their place yet.
    pub missing: Vec<String>,
    /// Regions whose storage did not answer, with why.
    pub unreachable: Vec<(String, String)>,
}

/// Why a repository could not be opened: its key (stop), or its storage (try again later).
enum OpenFailure {
    Key(EngineError),
    Unreachable(EngineError),
}

impl OpenFailure {
    fn error(self) -> EngineError {
        match self {
            OpenFailure::Key(error) | OpenFailure::Unreachable(error) => error,
        }
    }
}

/// A region's garbage collection: at most one a minute, however many backups are deleted.
#[derive(Debug, Clone, Copy, Default)]
struct Collection {
    last: Option<Instant>,
    wanted: bool,
}

/// Deletions within this long of a collection wait for the next maintenance pass.
const COLLECT_AT_MOST_EVERY: Duration = Duration::from_secs(60);

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

    /// Where the region's repository is.
    pub fn repository_place(&self, region: &str) -> RepositoryPlace {
        self.repository_settings
            .places
            .get(region)
            .cloned()
            .unwrap_or_else(|| RepositoryPlace {
                url: self
                    .root
                    .join(region)
                    .join("snapshots")
                    .display()
                    .to_string(),
                s3: Default::default(),
            })
    }

    fn open_options(&self) -> OpenOptions {
        OpenOptions {
            key_file: self.repository_settings.key_file.clone(),
            ..OpenOptions::default()
        }
    }

    /// The region's repository if it exists already (`None` when there is none yet), opened
    /// with the configured key. A wrong or missing key is an error saying which.
    async fn open_existing(&self, region: &str) -> Result<Option<Repository>, OpenFailure> {
        let place = self.repository_place(region);
        let context = format!(
            "the snapshot repository of region {region} ({})",
            place.describe()
        );
        let storage = place
            .storage()
            .map_err(|e| OpenFailure::Unreachable(failed(&context, e)))?;
        match Repository::open(storage, self.open_options()).await {
            Ok(repository) => Ok(Some(repository)),
            Err(cairn_snapshot::Error::NotARepository(_)) => Ok(None),
            Err(cairn_snapshot::Error::BadKeyFile { path, reason }) if !path.exists() => {
                Err(OpenFailure::Key(EngineError::Failed(format!(
                    "{context} is encrypted, and its key file {} is missing ({reason}): put back \
                     the copy you kept elsewhere; without it these backups cannot be read",
                    path.display()
                ))))
            }
            Err(
                error @ (cairn_snapshot::Error::BadKeyFile { .. }
                | cairn_snapshot::Error::WrongKey(_)
                | cairn_snapshot::Error::KeyRequired),
            ) => Err(OpenFailure::Key(failed(&context, error))),
            Err(error) => Err(OpenFailure::Unreachable(failed(&context, error))),
        }
    }

    /// The region's repository, created on first use (encrypted when a key file is set). The
    /// map of open ones is not held while storage is reached: a slow region holds up no other.
    async fn repository(&self, region: &str) -> Result<Repository, EngineError> {
        if let Some(repository) = self.repositories.lock().await.get(region) {
            return Ok(repository.clone());
        }
        let repository = match self
            .open_existing(region)
            .await
            .map_err(OpenFailure::error)?
        {
            Some(repository) => repository,
            None => self.create(region).await?,
        };
        let mut open = self.repositories.lock().await;
        Ok(open.entry(region.to_owned()).or_insert(repository).clone())
    }

    async fn create(&self, region: &str) -> Result<Repository, EngineError> {
        let place = self.repository_place(region);
        let settings = &self.repository_settings;
        let init = InitOptions {
            key_file: settings.key_file.clone().filter(|_| settings.encrypt_new),
            ..InitOptions::default()
        };
        let context = format!("creating the snapshot repository at {}", place.describe());
        let storage = place.storage().map_err(|e| failed(&context, e))?;
        Repository::init(storage, init, self.open_options())
            .await
            .map_err(|e| failed(&context, e))
    }

    /// Opens every region's existing repository, creating none. A wrong or missing key is an
    /// error (found before anything new could be made with a new key); storage that does not
    /// answer is reported, and that region's repository is opened when first used.
    pub async fn check_repositories(
        &self,
        regions: &[String],
    ) -> Result<RepositoryCheck, EngineError> {
        let mut check = RepositoryCheck::default();
        for region in regions {
            match self.open_existing(region).await {
                Ok(Some(repository)) => {
                    check.ready.push(self.facts_of(region, &repository));
                    self.repositories
                        .lock()
                        .await
                        .insert(region.clone(), repository);
                }
                Ok(None) => check.missing.push(region.clone()),
                Err(OpenFailure::Key(error)) => return Err(error),
                Err(OpenFailure::Unreachable(error)) => {
                    check.unreachable.push((region.clone(), error.to_string()))
                }
            }
        }
        Ok(check)
    }

    /// Creates the repositories of `regions` (which have none yet).
    pub async fn create_repositories(
        &self,
        regions: &[String],
    ) -> Result<Vec<cairn_model::RepositoryFacts>, EngineError> {
        let mut facts = Vec::new();
        for region in regions {
            let repository = self.repository(region).await?;
            facts.push(self.facts_of(region, &repository));
        }
        Ok(facts)
    }

    fn facts_of(&self, region: &str, repository: &Repository) -> cairn_model::RepositoryFacts {
        let encryption = repository.config().encryption.as_ref();
        cairn_model::RepositoryFacts {
            region: region.to_owned(),
            location: self.repository_place(region).describe(),
            encrypted: encryption.is_some(),
            key_fingerprint: encryption.map(|e| e.key_id.clone()),
            key_file: encryption.and(
                self.repository_settings
                    .key_file
                    .as_ref()
                    .map(|p| p.display().to_string()),
            ),
            problem: None,
        }
    }

    /// Frees what no snapshot of the region needs any more: deleted backups' data, and what a
    /// backup cut short left (packs written before Cairn was killed, say). Waits briefly for
    /// running backups; when they take longer, the next deletion collects it.
    pub async fn collect_garbage(&self, region: &str) -> Result<(), EngineError> {
        let repository = self
            .repository(region)
            .await?
            .with_lock_wait(Duration::from_secs(5));
        self.collections.lock().expect("not poisoned").insert(
            region.to_owned(),
            Collection {
                last: Some(Instant::now()),
                wanted: false,
            },
        );
        match repository.gc().await {
            Ok(report) => {
                tracing::info!(region, ?report, "snapshot repository collected");
                Ok(())
            }
            Err(cairn_snapshot::Error::Locked(holder)) => {
                tracing::info!(region, %holder, "garbage collection put off: the repository is in use");
                self.want_collection(region);
                Ok(())
            }
            Err(error) => {
                self.want_collection(region);
                Err(failed("collecting the snapshot repository", error))
            }
        }
    }

    fn want_collection(&self, region: &str) {
        let mut collections = self.collections.lock().expect("not poisoned");
        collections.entry(region.to_owned()).or_default().wanted = true;
    }

    /// Collects the region now unless it was collected within the last minute; then the next
    /// maintenance pass does. So deleting a thousand backups runs a handful of collections,
    /// not a thousand.
    async fn collect_soon(&self, region: &str) -> Result<(), EngineError> {
        let recent = {
            let collections = self.collections.lock().expect("not poisoned");
            collections
                .get(region)
                .and_then(|c| c.last)
                .is_some_and(|last| last.elapsed() < COLLECT_AT_MOST_EVERY)
        };
        if recent {
            self.want_collection(region);
            Ok(())
        } else {
            self.collect_garbage(region).await
        }
    }

    /// Regions whose collection was put off and is due now.
    fn collections_due(&self) -> Vec<String> {
        let collections = self.collections.lock().expect("not poisoned");
        collections
            .iter()
            .filter(|(_, c)| {
                c.wanted && c.last.is_none_or(|l| l.elapsed() >= COLLECT_AT_MOST_EVERY)
            })
            .map(|(region, _)| region.clone())
            .collect()
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

/// The snapshot of a backup: the one it names, or else the newest carrying its id as label.
async fn find_snapshot(
    repository: &Repository,
    backup: &Backup,
) -> Result<cairn_snapshot::Hash32, EngineError> {
    if let Some(id) = backup
        .checksum
        .as_deref()
        .and_then(cairn_snapshot::Hash32::parse)
    {
        return Ok(id);
    }
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

/// The leader's events before `up_to` (all of them without it) and where they end.
async fn stats(
    layout: &ClusterLayout,
    up_to: Option<u64>,
) -> Result<cairn_model::ClusterContents, EngineError> {
    let query = up_to.map(|p| format!("?upTo={p}")).unwrap_or_default();
    let url = format!("http://{}/stats{query}", layout.leader().address());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a plain HTTP client builds");
    let answer: serde_json::Value = client
        .get(&url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| failed("reading the cluster's contents", e))?
        .json()
        .await
        .map_err(|e| failed("reading the cluster's contents", e))?;
    let number = |key: &str| {
        answer[key].as_u64().ok_or_else(|| {
            failed(
                "reading the cluster's contents",
                format!("no {key} in {answer}"),
            )
        })
    };
    Ok(cairn_model::ClusterContents {
        event_count: number("eventCount")?,
        last_position: number("lastPosition")?,
    })
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

#[cfg(test)]
mod tests;
