//! Test doubles and helpers for the repository tests: trees with every kind of file, a
//! byte-and-metadata comparison, and storage decorators that fail or pause on purpose.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ops::Range;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use cairn_snapshot::{
    ChunkerParams, InitOptions, Listed, ObjectStorage, OpenOptions, Repository, Storage,
    StorageError,
};

/// Small chunks and packs, so that small trees still make many chunks and several packs.
pub fn small_init() -> InitOptions {
    InitOptions {
        chunker: ChunkerParams {
            min_size: 4 * 1024,
            avg_size: 16 * 1024,
            max_size: 64 * 1024,
        },
        pack_size: 64 * 1024,
        ..InitOptions::default()
    }
}

pub fn quick_open() -> OpenOptions {
    let mut open = OpenOptions::default();
    open.locks.wait = std::time::Duration::from_millis(300);
    open
}

/// Deterministic bytes: compressible text when `text`, otherwise noise.
pub fn content(seed: u64, len: usize, text: bool) -> Vec<u8> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        if text {
            let line = format!(
                "{{\"stream\":\"order-{}\",\"event\":{},\"type\":\"ItemAdded\",\"qty\":{}}}\n",
                state % 97,
                state % 100_000,
                state % 13
            );
            out.extend_from_slice(line.as_bytes());
        } else {
            out.extend_from_slice(&state.to_le_bytes());
        }
    }
    out.truncate(len);
    out
}

/// A tree with every kind of entry: nested directories, empty and large files, odd
/// permissions, a symlink, a dangling symlink and old modification times.
pub fn make_tree(root: &Path, seed: u64) {
    std::fs::create_dir_all(root.join("chunks/nested/deeper")).unwrap();
    std::fs::create_dir_all(root.join("empty-dir")).unwrap();
    std::fs::write(
        root.join("chunks/chunk-000000.000000"),
        content(seed, 700_000, true),
    )
    .unwrap();
    std::fs::write(
        root.join("chunks/chunk-000001.000000"),
        content(seed + 1, 300_000, false),
    )
    .unwrap();
    std::fs::write(root.join("chunks/nested/deeper/small.txt"), b"hello\n").unwrap();
    std::fs::write(root.join("empty.file"), b"").unwrap();
    std::fs::write(root.join("index.chk"), 42u64.to_le_bytes()).unwrap();
    std::fs::set_permissions(
        root.join("index.chk"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(root.join("run.sh"), b"#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(root.join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("chunks/nested/deeper/small.txt", root.join("link")).unwrap();
    std::os::unix::fs::symlink("does/not/exist", root.join("dangling")).unwrap();
    let old = filetime::FileTime::from_unix_time(1_600_000_000, 123_456_789);
    filetime::set_file_mtime(root.join("chunks/chunk-000000.000000"), old).unwrap();
    filetime::set_symlink_file_times(root.join("link"), old, old).unwrap();
    filetime::set_file_mtime(root.join("chunks/nested"), old).unwrap();
}

/// Everything `restore` promises to keep, per relative path: kind, bytes, mode, mtime.
pub fn describe(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    describe_into(root, root, &mut out);
    out
}

fn describe_into(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let mut children: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    children.sort();
    for path in children {
        let relative = path.strip_prefix(root).unwrap().display().to_string();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let times = format!("{}.{:09}", meta.mtime(), meta.mtime_nsec());
        let mode = meta.permissions().mode() & 0o7777;
        let line = if meta.file_type().is_symlink() {
            format!(
                "link -> {} @{times}",
                std::fs::read_link(&path).unwrap().display()
            )
        } else if meta.is_dir() {
            describe_into(root, &path, out);
            format!("dir {mode:o} @{times}")
        } else {
            let hash = blake3::hash(&std::fs::read(&path).unwrap());
            format!(
                "file {mode:o} {} bytes {} @{times}",
                meta.len(),
                hash.to_hex()
            )
        };
        out.insert(relative, line);
    }
}

pub fn local(dir: &Path) -> Arc<dyn Storage> {
    Arc::new(ObjectStorage::create(dir.to_str().unwrap()).unwrap())
}

pub async fn new_repo(dir: &Path) -> Repository {
    Repository::init(local(dir), small_init(), quick_open())
        .await
        .unwrap()
}

/// How `TestStorage` fails the write or delete it was told to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The N-th write or delete fails and does nothing.
    FailBefore,
    /// The N-th write or delete happens, but the caller is told it failed (a timeout after
    /// the fact).
    FailAfter,
}

/// Storage that misbehaves on purpose: fails the N-th write or delete (1-based, once), or
/// holds pack and index writes at a gate, to stop a backup or gc in the middle.
#[derive(Debug)]
pub struct TestStorage {
    pub inner: Arc<dyn Storage>,
    pub fail_at: usize,
    pub fault: Fault,
    pub mutations: AtomicUsize,
    /// How many times a manifest (`snapshots/…`) was read.
    pub manifest_reads: AtomicUsize,
    /// When set, writes under `gated` wait for a permit.
    pub gate: Option<tokio::sync::Semaphore>,
    /// The key prefixes the gate holds (packs and indexes unless told otherwise).
    pub gated: &'static [&'static str],
    /// Notified when a write reaches the gate.
    pub arrived: tokio::sync::Notify,
}

impl TestStorage {
    pub fn faulty(inner: Arc<dyn Storage>, fail_at: usize, fault: Fault) -> Self {
        TestStorage {
            inner,
            fail_at,
            fault,
            mutations: AtomicUsize::new(0),
            manifest_reads: AtomicUsize::new(0),
            gate: None,
            gated: &["packs/", "index/"],
            arrived: tokio::sync::Notify::new(),
        }
    }

    pub fn gated(inner: Arc<dyn Storage>) -> Self {
        let gate = Some(tokio::sync::Semaphore::new(0));
        TestStorage {
            gate,
            ..TestStorage::faulty(inner, usize::MAX, Fault::FailBefore)
        }
    }

    /// Holds only writes whose key starts with one of `prefixes` (`["index/"]`: a backup's
    /// packs land, their indexes wait).
    pub fn gated_on(inner: Arc<dyn Storage>, prefixes: &'static [&'static str]) -> Self {
        TestStorage {
            gated: prefixes,
            ..TestStorage::gated(inner)
        }
    }

    /// Lets every write held at the gate, and all later ones, through.
    pub fn open_gate(&self) {
        if let Some(gate) = &self.gate {
            gate.add_permits(1_000_000);
        }
    }

    async fn mutate<F>(&self, op: &'static str, key: &str, run: F) -> Result<(), StorageError>
    where
        F: std::future::Future<Output = Result<(), StorageError>>,
    {
        let n = self.mutations.fetch_add(1, Ordering::SeqCst) + 1;
        if n != self.fail_at {
            return run.await;
        }
        if self.fault == Fault::FailAfter {
            run.await?;
        }
        Err(StorageError::other(
            op,
            key,
            format!("injected fault at mutation {n}"),
        ))
    }
}

#[async_trait]
impl Storage for TestStorage {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        if let Some(gate) = &self.gate {
            if self.gated.iter().any(|prefix| key.starts_with(prefix)) {
                self.arrived.notify_one();
                gate.acquire().await.unwrap().forget();
            }
        }
        self.mutate("put", key, self.inner.put(key, bytes)).await
    }
    async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        if key.starts_with("snapshots/") {
            self.manifest_reads.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.get(key).await
    }
    async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, StorageError> {
        self.inner.get_range(key, range).await
    }
    async fn head(&self, key: &str) -> Result<Option<u64>, StorageError> {
        self.inner.head(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.mutate("delete", key, self.inner.delete(key)).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<Listed>, StorageError> {
        self.inner.list(prefix).await
    }
    fn location(&self) -> String {
        self.inner.location()
    }
}

/// The round trip every storage must pass: a tree with every kind of entry backed up, listed,
/// backed up again (nothing new), restored byte for byte with its metadata, and collected.
pub async fn round_trip(storage: Arc<dyn Storage>, scratch: &Path) {
    let (source, target) = (scratch.join("source"), scratch.join("target"));
    make_tree(&source, 1);
    let repo = Repository::init(storage, small_init(), quick_open())
        .await
        .unwrap();

    let summary = repo.backup(&source, |_| {}).await.unwrap();
    assert_eq!(summary.files, 6);
    assert_eq!(summary.stats.symlinks, 2);
    assert_eq!(summary.bytes, 700_000 + 300_000 + 6 + 8 + 18);
    let again = repo.backup(&source, |_| {}).await.unwrap();
    assert_eq!(again.new_bytes, 0);
    assert_eq!(repo.list().await.unwrap().len(), 2);

    repo.restore(&summary.id, &target, |_| {}).await.unwrap();
    assert_eq!(describe(&target), describe(&source));

    repo.delete(&summary.id).await.unwrap();
    repo.gc().await.unwrap();
    let check = repo.check(true).await.unwrap();
    assert!(check.is_clean() && check.notes.is_empty(), "{check:?}");
    std::fs::remove_dir_all(&target).unwrap();
    repo.restore(&again.id, &target, |_| {}).await.unwrap();
    assert_eq!(describe(&target), describe(&source));
}
