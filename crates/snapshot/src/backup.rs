//! Backup: a directory into a snapshot.
//!
//! The pipeline keeps every core busy with bounded memory:
//!
//! ```text
//! reader thread ──chunks──▶ N compressor threads ──blobs──▶ packer ──packs──▶ ≤2 uploads
//! (read, FastCDC,           (zstd, seal)                   (append,          (pack, then
//!  BLAKE3, dedup)                                            seal at size)     its index)
//! ```
//!
//! Channels are bounded, so at most a few chunks and three packs are in memory whatever the
//! volume's size. The manifest is written only after every pack and index is stored.
//!
//! Here: the summary types and the driver (lock, walk, pipeline, manifest last); `walk` lists
//! the source, `pipeline` reads, chunks, compresses, packs and uploads it.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::error::{Error, Result};
use crate::format::{ChunkId, Entry, EntryKind, Hash32, Manifest, SnapshotStats, FORMAT_VERSION};
use crate::lock::hostname;
use crate::repo::Repository;

mod pipeline;
mod walk;

use pipeline::Pipeline;
use walk::{read_before_walk, walk};

/// How far a backup or restore is, for progress bars.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub files_done: u64,
    pub files_total: u64,
}

/// What a backup did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub id: Hash32,
    pub files: u64,
    pub bytes: u64,
    pub new_bytes: u64,
    pub stored_bytes: u64,
    pub duration: Duration,
    pub stats: SnapshotStats,
    /// The files named in `BackupOptions::read_first`, as they were read (a live log's
    /// checkpoint: where the snapshot's data ends).
    pub first_read: HashMap<String, Vec<u8>>,
}

pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Choices for one backup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupOptions {
    /// Read every file, even those the parent snapshot shows unchanged (same size, mtime,
    /// inode and ctime).
    pub force_read: bool,
    /// Files (relative paths) read before the directory is even listed, so that everything
    /// they point to is found: a live log's checkpoint, whose data is then read after it and
    /// cut back to it on restore. A file named here that does not exist is an error.
    pub read_first: Vec<String>,
    /// Kept in the manifest and shown by `list`: the engine puts the backup's id here, so
    /// that a snapshot finished after its backup was given up on can still be found.
    pub label: Option<String>,
    /// At most this many bytes per second read from the source, so that a backup of a live
    /// node's volume does not take all of its disk's bandwidth. `None`: as fast as it goes.
    pub read_limit: Option<u64>,
}

impl Repository {
    /// Backs up `source` (a directory) into a new snapshot and returns its summary. Files
    /// unchanged since the last snapshot of the same directory on this host are not read again.
    pub async fn backup(
        &self,
        source: &Path,
        progress: impl Fn(Progress) + Send + Sync + 'static,
    ) -> Result<Summary> {
        self.backup_with(source, BackupOptions::default(), progress)
            .await
    }

    pub async fn backup_with(
        &self,
        source: &Path,
        options: BackupOptions,
        progress: impl Fn(Progress) + Send + Sync + 'static,
    ) -> Result<Summary> {
        let started = Instant::now();
        let metadata = std::fs::metadata(source).map_err(Error::io(source))?;
        if !metadata.is_dir() {
            return Err(Error::SourceNotADirectory(source.to_owned()));
        }
        let source = std::fs::canonicalize(source).map_err(Error::io(source))?;
        // Named by its label, so that deleting the snapshot by label waits for this backup.
        let lock = self
            .lock_for(crate::lock::LockRequest {
                uses: options.label.iter().cloned().collect(),
                ..crate::lock::LockRequest::shared("backup")
            })
            .await?;
        // The work runs on a task of its own, which keeps the lock until the pipeline has
        // stopped. A caller that gives up (drops this future on a deadline, say) only asks it
        // to stop: uploads already on their way land or fail first, and gc cannot start in
        // between and delete a pack whose index lands after it looked.
        let stop = Arc::new(AtomicBool::new(false));
        let _stop_when_dropped = StopWhenDropped(stop.clone());
        let repository = self.clone();
        let progress: ProgressFn = Arc::new(progress);
        let work = tokio::spawn(async move {
            let result = repository
                .backup_locked(&source, options, progress, started, stop)
                .await;
            lock.release().await;
            result
        });
        match work.await {
            Ok(result) => result,
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        }
    }

    /// The files of the newest snapshot of `source` taken on this host, by path.
    async fn parent_files(&self, source: &str) -> HashMap<String, Entry> {
        let Ok((snapshots, _)) = self.list_readable().await else {
            return HashMap::new();
        };
        let host = hostname();
        let newest = snapshots
            .iter()
            .filter(|s| s.source == source && s.hostname == host)
            .max_by_key(|s| s.time);
        let Some(Ok(manifest)) = (match newest {
            Some(info) => Some(self.load_manifest(&info.id).await),
            None => None,
        }) else {
            return HashMap::new();
        };
        manifest
            .entries
            .into_iter()
            .filter(|e| matches!(e.kind, EntryKind::File { .. }))
            .map(|e| (e.path.clone(), e))
            .collect()
    }

    async fn backup_locked(
        &self,
        source: &Path,
        options: BackupOptions,
        progress: ProgressFn,
        started: Instant,
        stop: Arc<AtomicBool>,
    ) -> Result<Summary> {
        // Only chunks a pack really holds count as stored: an index entry whose pack is gone
        // would make this snapshot point at nothing.
        let known: HashSet<ChunkId> = self.usable_locations().await?.into_keys().collect();
        let parent = if options.force_read {
            HashMap::new()
        } else {
            self.parent_files(&source.display().to_string()).await
        };
        let root = source.to_owned();
        let read_first = options.read_first.clone();
        let (planned, skipped, first_read) = tokio::task::spawn_blocking(move || {
            let preread = read_before_walk(&root, &read_first)?;
            let (mut planned, skipped) = walk(&root)?;
            for item in &mut planned {
                if let Some((entry, bytes)) = preread.get(&item.entry.path) {
                    item.entry = entry.clone();
                    item.preread = Some(bytes.clone());
                }
            }
            let first_read = preread
                .into_iter()
                .map(|(path, (_, bytes))| (path, bytes))
                .collect();
            Ok::<_, Error>((planned, skipped, first_read))
        })
        .await
        .expect("the walk does not panic")?;

        let job = Pipeline {
            storage: self.storage.clone(),
            codec: self.codec.clone(),
            chunker: self.config.chunker,
            pack_size: self.config.pack_size as usize,
            threads: self.threads(),
            known,
            parent,
            progress,
            handle: tokio::runtime::Handle::current(),
            read_limit: options.read_limit.filter(|limit| *limit > 0),
            stop: stop.clone(),
        };
        let output = tokio::task::spawn_blocking(move || job.run(planned))
            .await
            .expect("the pipeline does not panic")?;
        if stop.load(Ordering::SeqCst) {
            return Err(given_up());
        }

        let mut stats = output.stats;
        stats.skipped = skipped;
        stats.duration_ms = started.elapsed().as_millis() as u64;
        let manifest = Manifest {
            version: FORMAT_VERSION,
            time: Utc::now(),
            hostname: hostname(),
            source: source.display().to_string(),
            label: options.label.clone(),
            stats,
            entries: output.entries,
        };
        let id = self.save_manifest(&manifest).await?;
        Ok(Summary {
            id,
            files: stats.files,
            bytes: stats.bytes,
            new_bytes: stats.new_bytes,
            stored_bytes: stats.stored_bytes,
            duration: started.elapsed(),
            stats,
            first_read,
        })
    }
}

/// Asks a backup's pipeline to stop when the caller's future is dropped.
struct StopWhenDropped(Arc<AtomicBool>);

impl Drop for StopWhenDropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn given_up() -> Error {
    Error::Interrupted("the backup was given up on before it finished".into())
}
