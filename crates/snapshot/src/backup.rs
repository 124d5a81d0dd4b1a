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

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;

use crate::crypto::{ChunkEncoder, Codec};
use crate::error::{Error, Result};
use crate::format::{
    pack_key, ChunkId, ChunkerParams, Entry, EntryKind, FileHasher, Hash32, IndexObject, Location,
    Manifest, SnapshotStats, Stamp, FORMAT_VERSION,
};
use crate::lock::hostname;
use crate::repo::Repository;
use crate::storage::Storage;

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

/// An entry found by the walk, before its content is read.
struct Planned {
    entry: Entry,
    source: PathBuf,
    /// The content, when it was read before the walk (`BackupOptions::read_first`).
    preread: Option<Vec<u8>>,
}

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

/// The files to read before the walk, with their metadata as it was when read.
fn read_before_walk(root: &Path, paths: &[String]) -> Result<HashMap<String, (Entry, Vec<u8>)>> {
    let mut read = HashMap::new();
    for relative in paths {
        let path = root.join(relative);
        let metadata = std::fs::symlink_metadata(&path).map_err(Error::io(&path))?;
        let bytes = std::fs::read(&path).map_err(Error::io(&path))?;
        let kind = EntryKind::File {
            size: bytes.len() as u64,
            hash: Hash32([0; 32]),
            chunks: Vec::new(),
        };
        read.insert(
            relative.clone(),
            (entry_for(relative.clone(), &metadata, kind), bytes),
        );
    }
    Ok(read)
}

/// Walks `root` depth-first in name order: parents before children, the same order every time.
fn walk(root: &Path) -> Result<(Vec<Planned>, u64)> {
    let mut planned = Vec::new();
    let mut skipped = 0;
    let metadata = std::fs::symlink_metadata(root).map_err(Error::io(root))?;
    planned.push(Planned {
        entry: entry_for(String::new(), &metadata, EntryKind::Dir),
        source: root.to_owned(),
        preread: None,
    });
    walk_dir(root, "", &mut planned, &mut skipped)?;
    Ok((planned, skipped))
}

fn walk_dir(dir: &Path, prefix: &str, planned: &mut Vec<Planned>, skipped: &mut u64) -> Result<()> {
    let mut children: Vec<_> = std::fs::read_dir(dir)
        .map_err(Error::io(dir))?
        .collect::<std::io::Result<_>>()
        .map_err(Error::io(dir))?;
    children.sort_by_key(|c| c.file_name());
    for child in children {
        let path = child.path();
        let name = child.file_name();
        let name = name
            .to_str()
            .ok_or_else(|| Error::NonUtf8Name { path: path.clone() })?;
        let relative = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}/{name}")
        };
        let metadata = std::fs::symlink_metadata(&path).map_err(Error::io(&path))?;
        let file_type = metadata.file_type();
        if file_type.is_dir() {
            planned.push(Planned {
                entry: entry_for(relative.clone(), &metadata, EntryKind::Dir),
                source: path.clone(),
                preread: None,
            });
            walk_dir(&path, &relative, planned, skipped)?;
        } else if file_type.is_file() {
            // Size, hash and chunks are filled in when the content is read.
            let kind = EntryKind::File {
                size: metadata.len(),
                hash: Hash32([0; 32]),
                chunks: Vec::new(),
            };
            planned.push(Planned {
                entry: entry_for(relative, &metadata, kind),
                source: path,
                preread: None,
            });
        } else if file_type.is_symlink() {
            let target = std::fs::read_link(&path).map_err(Error::io(&path))?;
            let target = target
                .to_str()
                .ok_or_else(|| Error::NonUtf8Name { path: path.clone() })?
                .to_owned();
            planned.push(Planned {
                entry: entry_for(relative, &metadata, EntryKind::Symlink { target }),
                source: path,
                preread: None,
            });
        } else {
            tracing::warn!(path = %path.display(), "skipping a special file (socket, fifo or device)");
            *skipped += 1;
        }
    }
    Ok(())
}

fn entry_for(path: String, metadata: &std::fs::Metadata, kind: EntryKind) -> Entry {
    let stamp = matches!(kind, EntryKind::File { .. }).then(|| Stamp {
        inode: metadata.ino(),
        ctime: metadata.ctime(),
        ctime_nanos: metadata.ctime_nsec() as u32,
    });
    Entry {
        path,
        stamp,
        mode: metadata.permissions().mode() & 0o7777,
        mtime: metadata.mtime(),
        mtime_nanos: metadata.mtime_nsec() as u32,
        kind,
    }
}

struct Pipeline {
    storage: Arc<dyn Storage>,
    codec: Codec,
    chunker: ChunkerParams,
    pack_size: usize,
    threads: usize,
    known: HashSet<ChunkId>,
    /// The parent snapshot's files, to skip reading those that have not changed.
    parent: HashMap<String, Entry>,
    progress: ProgressFn,
    handle: tokio::runtime::Handle,
    read_limit: Option<u64>,
    /// Set when the caller gave up: stop reading, upload nothing more.
    stop: Arc<AtomicBool>,
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

struct NewChunk {
    id: ChunkId,
    data: Vec<u8>,
}

struct Blob {
    id: ChunkId,
    raw_len: u32,
    stored: Vec<u8>,
}

struct Output {
    entries: Vec<Entry>,
    stats: SnapshotStats,
}

impl Pipeline {
    fn run(self, planned: Vec<Planned>) -> Result<Output> {
        let capacity = 2 * self.threads;
        let (chunk_tx, chunk_rx) = crossbeam_channel::bounded::<NewChunk>(capacity);
        let (blob_tx, blob_rx) = crossbeam_channel::bounded::<Blob>(capacity);
        // Set when any stage fails, so that the others stop early instead of finishing the volume.
        let failed = AtomicBool::new(false);
        let first_error: Mutex<Option<Error>> = Mutex::new(None);
        let fail = |error: Error| {
            // The error first, then the flag: whoever sees the flag finds the cause recorded.
            first_error
                .lock()
                .expect("not poisoned")
                .get_or_insert(error);
            failed.store(true, Ordering::SeqCst);
        };
        let (fail, failed_ref, this) = (&fail, &failed, &self);

        let (read, stored) = std::thread::scope(|scope| {
            let reader = scope.spawn(move || match this.read_all(planned, chunk_tx, failed_ref) {
                Ok(read) => Some(read),
                Err(error) => {
                    fail(error);
                    None
                }
            });
            for _ in 0..this.threads {
                let (chunk_rx, blob_tx) = (chunk_rx.clone(), blob_tx.clone());
                scope.spawn(move || {
                    let mut encoder = ChunkEncoder::new(&this.codec);
                    for chunk in chunk_rx {
                        let stored = encoder.encode(&chunk.data);
                        let blob = Blob {
                            id: chunk.id,
                            raw_len: chunk.data.len() as u32,
                            stored,
                        };
                        if blob_tx.send(blob).is_err() {
                            return;
                        }
                    }
                });
            }
            drop((chunk_rx, blob_tx));
            let stored = match this.pack_all(blob_rx, failed_ref) {
                Ok(stored) => Some(stored),
                Err(error) => {
                    fail(error);
                    None
                }
            };
            (reader.join().expect("the reader does not panic"), stored)
        });
        if let Some(error) = first_error.into_inner().expect("not poisoned") {
            return Err(error);
        }
        let (entries, mut stats) = read.expect("no error, so the reader finished");
        let stored_bytes = stored.expect("no error, so the packer finished");
        stats.stored_bytes = stored_bytes;
        Ok(Output { entries, stats })
    }

    /// Reads every file in order, chunks and hashes it, and sends chunks the repository lacks.
    fn read_all(
        &self,
        planned: Vec<Planned>,
        chunk_tx: crossbeam_channel::Sender<NewChunk>,
        failed: &AtomicBool,
    ) -> Result<(Vec<Entry>, SnapshotStats)> {
        let mut stats = SnapshotStats::default();
        let mut progress = Progress {
            bytes_total: planned.iter().map(|p| planned_size(&p.entry)).sum(),
            files_total: planned
                .iter()
                .filter(|p| matches!(p.entry.kind, EntryKind::File { .. }))
                .count() as u64,
            ..Progress::default()
        };
        (self.progress)(progress);
        let mut sent: HashSet<ChunkId> = HashSet::new();
        let mut entries = Vec::with_capacity(planned.len());
        let mut last_report = 0u64;
        let pace = Pace::new(self.read_limit);
        let mut read_so_far = 0u64;
        for Planned {
            mut entry,
            source,
            preread,
        } in planned
        {
            if let Some(kind) = self.unchanged(&entry) {
                entry.kind = kind;
                let size = planned_size(&entry);
                stats.files += 1;
                stats.unchanged_files += 1;
                stats.bytes += size;
                progress.bytes_done += size;
                progress.files_done += 1;
                entries.push(entry);
                continue;
            }
            match &mut entry.kind {
                EntryKind::Dir => stats.dirs += 1,
                EntryKind::Symlink { .. } => stats.symlinks += 1,
                EntryKind::File { size, hash, chunks } => {
                    let content: Box<dyn std::io::Read> = match preread {
                        Some(bytes) => Box::new(std::io::Cursor::new(bytes)),
                        None => Box::new(File::open(&source).map_err(Error::io(&source))?),
                    };
                    let params = self.chunker;
                    let cdc = fastcdc::v2020::StreamCDC::new(
                        content,
                        params.min_size as usize,
                        params.avg_size as usize,
                        params.max_size as usize,
                    );
                    let mut file_hash = FileHasher::default();
                    let mut read = 0u64;
                    for chunk in cdc {
                        if self.stop.load(Ordering::Relaxed) {
                            return Err(given_up());
                        }
                        if failed.load(Ordering::Relaxed) {
                            return Err(Error::Interrupted(
                                "another stage of the backup failed".into(),
                            ));
                        }
                        let chunk = chunk.map_err(|e| Error::Io {
                            path: source.clone(),
                            source: std::io::Error::other(e.to_string()),
                        })?;
                        let data = chunk.data;
                        let id = self.codec.chunk_id(&data);
                        file_hash.chunk(&id, data.len());
                        chunks.push(id);
                        read += data.len() as u64;
                        read_so_far += data.len() as u64;
                        pace.wait(read_so_far);
                        progress.bytes_done += data.len() as u64;
                        if !self.known.contains(&id) && sent.insert(id) {
                            stats.new_bytes += data.len() as u64;
                            if chunk_tx.send(NewChunk { id, data }).is_err() {
                                return Err(Error::Interrupted("the compressors stopped".into()));
                            }
                        }
                        if progress.bytes_done - last_report >= 8 << 20 {
                            last_report = progress.bytes_done;
                            (self.progress)(progress);
                        }
                    }
                    // The size is what was read: a file that grew during the backup is kept whole.
                    *size = read;
                    *hash = file_hash.finish();
                    stats.files += 1;
                    stats.bytes += read;
                    progress.files_done += 1;
                    // After every file too: the console shows files done, and tests pause here.
                    (self.progress)(progress);
                }
            }
            entries.push(entry);
        }
        progress.bytes_total = progress.bytes_total.max(progress.bytes_done);
        (self.progress)(progress);
        Ok((entries, stats))
    }

    /// Appends blobs into packs and uploads each full pack with its index; returns stored bytes.
    fn pack_all(
        &self,
        blobs: crossbeam_channel::Receiver<Blob>,
        failed: &AtomicBool,
    ) -> Result<u64> {
        let uploads = Arc::new(tokio::sync::Semaphore::new(2));
        let mut pending: Vec<tokio::task::JoinHandle<Result<()>>> = Vec::new();
        let mut pack: Vec<u8> = Vec::with_capacity(self.pack_size + self.chunker.max_size as usize);
        let mut entries: Vec<(ChunkId, u32, u32, u32)> = Vec::new();
        let mut stored_bytes = 0u64;
        let mut failure: Option<Error> = None;
        let mut blobs = blobs.into_iter();
        let stopped = || failed.load(Ordering::Relaxed) || self.stop.load(Ordering::Relaxed);
        loop {
            let blob = if stopped() { None } else { blobs.next() };
            if let Some(blob) = &blob {
                entries.push((
                    blob.id,
                    pack.len() as u32,
                    blob.stored.len() as u32,
                    blob.raw_len,
                ));
                pack.extend_from_slice(&blob.stored);
                stored_bytes += blob.stored.len() as u64;
            }
            let last = blob.is_none();
            if !pack.is_empty() && (pack.len() >= self.pack_size || last) && !stopped() {
                let full = std::mem::replace(
                    &mut pack,
                    Vec::with_capacity(self.pack_size + self.chunker.max_size as usize),
                );
                let permit = self
                    .handle
                    .block_on(uploads.clone().acquire_owned())
                    .expect("never closed");
                pending.push(self.handle.spawn(upload(
                    self.storage.clone(),
                    self.codec.clone(),
                    full,
                    std::mem::take(&mut entries),
                    permit,
                )));
                // Notice an upload's failure early, so that the readers stop; but return only
                // once every upload has ended (the lock must outlive them all).
                let (done, running): (Vec<_>, Vec<_>) =
                    pending.into_iter().partition(|h| h.is_finished());
                pending = running;
                for handle in done {
                    let outcome = self.handle.block_on(handle).expect("uploads do not panic");
                    if let Err(error) = outcome {
                        failure.get_or_insert(error);
                    }
                }
                if failure.is_some() {
                    break;
                }
            }
            if last {
                break;
            }
        }
        for handle in pending {
            let outcome = self.handle.block_on(handle).expect("uploads do not panic");
            if let Err(error) = outcome {
                failure.get_or_insert(error);
            }
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(stored_bytes),
        }
    }
}

impl Pipeline {
    /// The parent's content for a file that has not changed since: same size, mtime, inode and
    /// ctime, and every chunk still in the repository.
    fn unchanged(&self, entry: &Entry) -> Option<EntryKind> {
        let EntryKind::File { size, .. } = entry.kind else {
            return None;
        };
        let before = self.parent.get(&entry.path)?;
        let EntryKind::File {
            size: old_size,
            chunks,
            ..
        } = &before.kind
        else {
            return None;
        };
        let same = *old_size == size
            && before.mtime == entry.mtime
            && before.mtime_nanos == entry.mtime_nanos
            && before.stamp.is_some()
            && before.stamp == entry.stamp
            && chunks.iter().all(|c| self.known.contains(c));
        same.then(|| before.kind.clone())
    }
}

fn planned_size(entry: &Entry) -> u64 {
    match entry.kind {
        EntryKind::File { size, .. } => size,
        _ => 0,
    }
}

/// Stores a pack, then the index that makes its chunks known. A pack without its index is
/// garbage for `gc`, never a dangling reference.
async fn upload(
    storage: Arc<dyn Storage>,
    codec: Codec,
    pack: Vec<u8>,
    entries: Vec<(ChunkId, u32, u32, u32)>,
    _permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<()> {
    let pack_id = Hash32::of(&pack);
    storage.put(&pack_key(&pack_id), Bytes::from(pack)).await?;
    let index = IndexObject {
        entries: entries
            .into_iter()
            .map(|(id, offset, stored_len, raw_len)| {
                (
                    id,
                    Location {
                        pack: pack_id,
                        offset,
                        stored_len,
                        raw_len,
                    },
                )
            })
            .collect(),
    };
    let bytes = codec.seal(index.encode());
    storage
        .put(&crate::format::index_key(&Hash32::of(&bytes)), bytes.into())
        .await?;
    Ok(())
}

/// Holds a reader to a number of bytes per second: after each chunk it sleeps until the bytes
/// read so far are due.
struct Pace {
    limit: Option<u64>,
    started: Instant,
}

impl Pace {
    fn new(limit: Option<u64>) -> Pace {
        Pace {
            limit,
            started: Instant::now(),
        }
    }

    fn wait(&self, bytes: u64) {
        let Some(limit) = self.limit else {
            return;
        };
        let due = Duration::from_secs_f64(bytes as f64 / limit as f64);
        if let Some(early) = due.checked_sub(self.started.elapsed()) {
            std::thread::sleep(early);
        }
    }
}
