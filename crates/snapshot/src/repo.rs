//! Opening and creating a repository, reading its indexes and manifests, listing and deleting
//! snapshots. Backup, restore, verify, check and gc live in their own modules.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};

use crate::crypto::{Codec, Key};
use crate::error::{Error, Result};
use crate::format::{
    id_from_key, index_key, snapshot_key, ChunkId, ChunkerParams, EncryptionConfig, Hash32,
    IndexObject, Location, Manifest, PackId, RepoConfig, SnapshotStats, CONFIG_KEY, FORMAT_VERSION,
    INDEX, PACKS, SNAPSHOTS,
};
use crate::lock::{self, LockGuard, LockRequest, LockSettings};
use crate::storage::{ObjectStorage, Storage};

/// How a new repository is laid out. Defaults: 1 MiB average chunks, zstd level 1, 16 MiB packs.
/// (On event data, level 1 compresses as well as 3 at twice the speed: measured, see README.)
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub chunker: ChunkerParams,
    pub compression_level: i32,
    pub pack_size: u32,
    /// Encrypt with the key in this file (created when it does not exist).
    pub key_file: Option<PathBuf>,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            chunker: ChunkerParams::default(),
            compression_level: 1,
            pack_size: 16 * 1024 * 1024,
            key_file: None,
        }
    }
}

/// How this process uses an existing repository.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Overrides the key file named in the repository's config.
    pub key_file: Option<PathBuf>,
    pub locks: LockSettings,
    /// Worker threads for compression and restore; default: the machine's cores.
    pub threads: usize,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            key_file: None,
            locks: LockSettings::default(),
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
        }
    }
}

/// A snapshot repository. Cloning is cheap: clones share the storage.
#[derive(Clone)]
pub struct Repository {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) config: RepoConfig,
    pub(crate) codec: Codec,
    pub(crate) options: OpenOptions,
    /// What each manifest read so far says about itself. Manifests are named by their hash and
    /// never rewritten, so what was read once stays true while the manifest exists.
    infos: Arc<std::sync::Mutex<HashMap<Hash32, SnapshotInfo>>>,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("location", &self.storage.location())
            .finish()
    }
}

/// A snapshot as `list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub id: Hash32,
    pub time: DateTime<Utc>,
    pub hostname: String,
    pub source: String,
    pub label: Option<String>,
    pub stats: SnapshotStats,
}

/// Every index entry in the repository, as loaded.
#[derive(Debug, Default)]
pub(crate) struct LoadedIndex {
    /// Each index object with its entries, in id order (see `usable_locations` for where each
    /// chunk can be read).
    pub objects: Vec<(Hash32, IndexObject)>,
}

impl Repository {
    /// Creates a repository in `storage`; refuses if one is there already.
    pub async fn init(
        storage: Arc<dyn Storage>,
        init: InitOptions,
        open: OpenOptions,
    ) -> Result<Repository> {
        init.chunker.check()?;
        if !(1..=22).contains(&init.compression_level) {
            return Err(Error::InvalidSetting {
                name: "compression_level",
                reason: format!("{} is outside zstd's 1..=22", init.compression_level),
            });
        }
        if !(64 << 10..=1 << 30).contains(&init.pack_size) {
            return Err(Error::InvalidSetting {
                name: "pack_size",
                reason: format!("{} is outside 64 KiB..=1 GiB", init.pack_size),
            });
        }
        if storage.head(CONFIG_KEY).await?.is_some() {
            return Err(Error::AlreadyExists(storage.location()));
        }
        let (key, encryption) = match &init.key_file {
            None => (None, None),
            Some(path) => {
                let path = std::path::absolute(path).map_err(Error::io(path))?;
                let key = Key::load_or_create(&path)?;
                let encryption = EncryptionConfig {
                    cipher: "xchacha20-poly1305".into(),
                    key_file: path.display().to_string(),
                    key_id: key.id(),
                };
                (Some(key), Some(encryption))
            }
        };
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).expect("random source");
        let config = RepoConfig {
            version: FORMAT_VERSION,
            id: hex::encode(id),
            created: Utc::now(),
            chunker: init.chunker,
            compression_level: init.compression_level,
            pack_size: init.pack_size,
            encryption,
        };
        storage.put(CONFIG_KEY, config.to_bytes().into()).await?;
        // Two parties creating one repository at once (instances sharing a new S3 region):
        // the config that landed is the repository, and whoever's it is not opens that one
        // (a different key is then a clear WrongKey, never two keys writing one repository).
        let landed = RepoConfig::from_bytes(&storage.get(CONFIG_KEY).await?)?;
        if landed.id != config.id {
            return Repository::open(storage, open).await;
        }
        Ok(Repository::with(storage, config, key, open))
    }

    fn with(
        storage: Arc<dyn Storage>,
        config: RepoConfig,
        key: Option<Key>,
        options: OpenOptions,
    ) -> Repository {
        let codec = Codec::new(config.compression_level, key.as_ref());
        Repository {
            storage,
            config,
            codec,
            options,
            infos: Arc::default(),
        }
    }

    /// The same repository, waiting at most `wait` for a conflicting lock.
    pub fn with_lock_wait(&self, wait: std::time::Duration) -> Repository {
        let mut repository = self.clone();
        repository.options.locks.wait = wait;
        repository
    }

    pub async fn open(storage: Arc<dyn Storage>, open: OpenOptions) -> Result<Repository> {
        let bytes = match storage.get(CONFIG_KEY).await {
            Ok(bytes) => bytes,
            Err(e) if e.is_not_found() => return Err(Error::NotARepository(storage.location())),
            Err(e) => return Err(e.into()),
        };
        let config = RepoConfig::from_bytes(&bytes)?;
        let key = match &config.encryption {
            None => None,
            Some(encryption) => {
                let path = open
                    .key_file
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(&encryption.key_file));
                if !path.exists() && open.key_file.is_none() {
                    return Err(Error::KeyRequired);
                }
                let key = Key::load(&path)?;
                if key.id() != encryption.key_id {
                    return Err(Error::WrongKey(path));
                }
                Some(key)
            }
        };
        Ok(Repository::with(storage, config, key, open))
    }

    /// `init` at a URL: `file:///path`, a plain path, or `s3://bucket/prefix`.
    pub async fn init_url(url: &str, init: InitOptions, open: OpenOptions) -> Result<Repository> {
        Repository::init(Arc::new(ObjectStorage::create(url)?), init, open).await
    }

    pub async fn open_url(url: &str, open: OpenOptions) -> Result<Repository> {
        Repository::open(Arc::new(ObjectStorage::open(url)?), open).await
    }

    pub fn config(&self) -> &RepoConfig {
        &self.config
    }

    pub fn location(&self) -> String {
        self.storage.location()
    }

    pub(crate) async fn lock(&self, exclusive: bool, purpose: &str) -> Result<LockGuard> {
        let request = LockRequest {
            exclusive,
            ..LockRequest::shared(purpose)
        };
        self.lock_for(request).await
    }

    pub(crate) async fn lock_for(&self, request: LockRequest) -> Result<LockGuard> {
        lock::acquire(&self.storage, &self.codec, self.options.locks, request).await
    }

    /// Snapshots, oldest first. An unreadable manifest is an error naming it.
    pub async fn list(&self) -> Result<Vec<SnapshotInfo>> {
        let (infos, mut unreadable) = self.list_readable().await?;
        match unreadable.pop() {
            Some((_, error)) => Err(error),
            None => Ok(infos),
        }
    }

    /// Snapshots whose manifest can be read, oldest first, and those that cannot with why: one
    /// damaged manifest must not hide every other snapshot.
    pub async fn list_readable(&self) -> Result<(Vec<SnapshotInfo>, Vec<(Hash32, Error)>)> {
        let ids = self.snapshot_ids().await?;
        let read: Vec<(Hash32, Result<SnapshotInfo>)> = futures::stream::iter(ids)
            .map(|id| async move { (id, self.info(&id).await) })
            .buffer_unordered(16)
            .collect()
            .await;
        let listed: std::collections::HashSet<Hash32> = read.iter().map(|(id, _)| *id).collect();
        self.infos
            .lock()
            .expect("not poisoned")
            .retain(|id, _| listed.contains(id));
        let (mut infos, mut unreadable) = (Vec::new(), Vec::new());
        for (id, info) in read {
            match info {
                Ok(info) => infos.push(info),
                // Deleted between the listing and the read: not a snapshot any more.
                Err(Error::SnapshotNotFound(_)) => {}
                Err(error) => unreadable.push((id, error)),
            }
        }
        infos.sort_by_key(|info| (info.time, info.id));
        Ok((infos, unreadable))
    }

    /// What a snapshot's manifest says about it (read once, then remembered).
    pub async fn info(&self, id: &Hash32) -> Result<SnapshotInfo> {
        if let Some(info) = self.infos.lock().expect("not poisoned").get(id) {
            return Ok(info.clone());
        }
        let manifest = self.load_manifest(id).await?;
        let info = SnapshotInfo {
            id: *id,
            time: manifest.time,
            hostname: manifest.hostname,
            source: manifest.source,
            label: manifest.label,
            stats: manifest.stats,
        };
        self.infos
            .lock()
            .expect("not poisoned")
            .insert(*id, info.clone());
        Ok(info)
    }

    /// The snapshots carrying `label`, oldest first (one, unless a caller reused a label).
    /// Unreadable manifests are skipped (and logged): they cannot be told apart anyway.
    pub async fn find_by_label(&self, label: &str) -> Result<Vec<SnapshotInfo>> {
        let (all, unreadable) = self.list_readable().await?;
        for (id, error) in unreadable {
            tracing::warn!(snapshot = %id.short(), %error, "skipping an unreadable manifest");
        }
        Ok(all
            .into_iter()
            .filter(|s| s.label.as_deref() == Some(label))
            .collect())
    }

    /// The lock a reader of snapshot `id` takes: it names the snapshot and its label, so that
    /// nobody deletes the snapshot meanwhile.
    pub(crate) async fn lock_to_use(&self, id: &Hash32, purpose: &str) -> Result<LockGuard> {
        let info = self.info(id).await?;
        let uses = std::iter::once(id.hex()).chain(info.label).collect();
        self.lock_for(LockRequest {
            uses,
            ..LockRequest::shared(purpose)
        })
        .await
    }

    pub(crate) async fn snapshot_ids(&self) -> Result<Vec<Hash32>> {
        let listed = self.storage.list(SNAPSHOTS).await?;
        Ok(listed.iter().filter_map(|l| id_from_key(&l.key)).collect())
    }

    /// The snapshot whose id starts with `prefix` (at least 4 hex digits), or a clear error.
    pub async fn resolve(&self, prefix: &str) -> Result<Hash32> {
        let prefix = prefix.to_ascii_lowercase();
        if prefix.len() < 4 || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::SnapshotNotFound(format!(
                "{prefix} (give at least 4 hex digits of its id)"
            )));
        }
        let matching: Vec<Hash32> = self
            .snapshot_ids()
            .await?
            .into_iter()
            .filter(|id| id.hex().starts_with(&prefix))
            .collect();
        match matching.as_slice() {
            [one] => Ok(*one),
            [] => Err(Error::SnapshotNotFound(prefix)),
            _ => Err(Error::AmbiguousSnapshot(prefix)),
        }
    }

    pub async fn manifest(&self, id: &Hash32) -> Result<Manifest> {
        self.load_manifest(id).await
    }

    pub(crate) async fn load_manifest(&self, id: &Hash32) -> Result<Manifest> {
        let key = snapshot_key(id);
        let bytes = match self.storage.get(&key).await {
            Ok(bytes) => bytes,
            Err(e) if e.is_not_found() => return Err(Error::SnapshotNotFound(id.hex())),
            Err(e) => return Err(e.into()),
        };
        if Hash32::of(&bytes) != *id {
            return Err(Error::corrupt(
                format!("snapshot {}", id.short()),
                "manifest does not match its id",
            ));
        }
        let json = self
            .codec
            .decode_meta(&bytes)
            .map_err(|r| Error::corrupt(format!("snapshot {}", id.short()), r))?;
        Manifest::from_json(&json)
            .map_err(|r| Error::corrupt(format!("snapshot {}", id.short()), r))
    }

    /// Stores a manifest; the snapshot exists from this moment.
    pub(crate) async fn save_manifest(&self, manifest: &Manifest) -> Result<Hash32> {
        let bytes = self.codec.encode_meta(&manifest.to_json());
        let id = Hash32::of(&bytes);
        self.storage.put(&snapshot_key(&id), bytes.into()).await?;
        Ok(id)
    }

    /// Removes a snapshot. Its chunks stay until `gc`.
    pub async fn delete(&self, id: &Hash32) -> Result<()> {
        if self.forget(id).await? {
            Ok(())
        } else {
            Err(Error::SnapshotNotFound(id.hex()))
        }
    }

    /// Removes snapshot `id` once nobody restores or verifies it; `false` when it was not
    /// there. Its chunks stay until `gc`.
    pub async fn forget(&self, id: &Hash32) -> Result<bool> {
        let info = match self.info(id).await {
            Ok(info) => Some(info),
            Err(Error::SnapshotNotFound(_)) => return Ok(false),
            // Unreadable: deletable all the same, by its id.
            Err(_) => None,
        };
        let forgets = std::iter::once(id.hex())
            .chain(info.and_then(|i| i.label))
            .collect();
        let lock = self
            .lock_for(LockRequest {
                forgets,
                ..LockRequest::shared("delete")
            })
            .await?;
        let result = self.remove_manifest(id).await;
        lock.release().await;
        result
    }

    /// Removes every snapshot labelled `label` — also one that lands late, from a backup that
    /// was given up on but is still stopping: this waits until that backup has stopped, and
    /// for whoever restores one of them. Answers what was removed.
    pub async fn forget_labelled(&self, label: &str) -> Result<Vec<Hash32>> {
        let lock = self
            .lock_for(LockRequest {
                forgets: vec![label.to_owned()],
                ..LockRequest::shared("delete")
            })
            .await?;
        let result = async {
            let mut removed = Vec::new();
            for info in self.find_by_label(label).await? {
                if self.remove_manifest(&info.id).await? {
                    removed.push(info.id);
                }
            }
            Ok(removed)
        }
        .await;
        lock.release().await;
        result
    }

    async fn remove_manifest(&self, id: &Hash32) -> Result<bool> {
        let key = snapshot_key(id);
        if self.storage.head(&key).await?.is_none() {
            return Ok(false);
        }
        self.storage.delete(&key).await?;
        self.infos.lock().expect("not poisoned").remove(id);
        Ok(true)
    }

    pub(crate) async fn load_index(&self) -> Result<LoadedIndex> {
        let listed = self.storage.list(INDEX).await?;
        let mut objects: Vec<(Hash32, IndexObject)> = futures::stream::iter(listed)
            .map(|listed| async move {
                let id = id_from_key(&listed.key)
                    .ok_or_else(|| Error::corrupt(listed.key.clone(), "not named by a hash"))?;
                let bytes = self.storage.get(&listed.key).await?;
                Ok::<_, Error>((id, self.decode_index(&id, &bytes)?))
            })
            .buffer_unordered(16)
            .try_collect()
            .await?;
        // A fixed order, so that "the first usable location" is the same for everyone.
        objects.sort_by_key(|(id, _)| *id);
        Ok(LoadedIndex { objects })
    }

    /// Where each chunk can be read now: index entries whose pack exists and is long enough
    /// (the canonical copy when there are several). An entry whose pack is gone is not
    /// trusted: a backup stores that chunk again, a restore reports it lost.
    pub(crate) async fn usable_locations(&self) -> Result<HashMap<ChunkId, Location>> {
        let index = self.load_index().await?;
        let packs = list_packs(self).await?;
        Ok(canonical_locations(&index, &packs))
    }

    pub(crate) fn decode_index(&self, id: &Hash32, bytes: &[u8]) -> Result<IndexObject> {
        let name = format!("index {}", id.short());
        if Hash32::of(bytes) != *id {
            return Err(Error::corrupt(name, "contents do not match its name"));
        }
        let plain = self
            .codec
            .open(bytes)
            .map_err(|r| Error::corrupt(name.clone(), r))?;
        IndexObject::decode(&plain).map_err(|r| Error::corrupt(name, r))
    }

    /// Stores an index object; returns its id.
    pub(crate) async fn save_index(&self, index: &IndexObject) -> Result<Hash32> {
        let bytes = self.codec.seal(index.encode());
        let id = Hash32::of(&bytes);
        self.storage.put(&index_key(&id), bytes.into()).await?;
        Ok(id)
    }

    pub(crate) fn lock_settings(&self) -> LockSettings {
        self.options.locks
    }

    pub(crate) fn threads(&self) -> usize {
        self.options.threads.max(1)
    }
}

/// For each chunk, the copy that counts: the first, in index-id order, whose pack exists and
/// is long enough. Everyone who computes it gets the same answer.
pub(crate) fn canonical_locations(
    index: &LoadedIndex,
    packs: &HashMap<PackId, u64>,
) -> HashMap<ChunkId, Location> {
    let mut canonical = HashMap::new();
    for (_, object) in &index.objects {
        for (chunk, location) in &object.entries {
            let fits = packs
                .get(&location.pack)
                .is_some_and(|size| location.offset as u64 + location.stored_len as u64 <= *size);
            if fits {
                canonical.entry(*chunk).or_insert(*location);
            }
        }
    }
    canonical
}

pub(crate) async fn list_packs(repo: &Repository) -> Result<HashMap<PackId, u64>> {
    let listed = repo.storage.list(PACKS).await?;
    Ok(listed
        .into_iter()
        .filter_map(|l| Some((id_from_key(&l.key)?, l.size)))
        .collect())
}
