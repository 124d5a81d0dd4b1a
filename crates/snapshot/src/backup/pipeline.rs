//! The pipeline: a reader thread chunks and hashes the files and sends the chunks the
//! repository lacks to the compressor threads, whose blobs the packer appends into packs
//! that are uploaded, each followed by its index (see the diagram in `backup`).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::walk::Planned;
use super::{given_up, Progress, ProgressFn};
use crate::crypto::{ChunkEncoder, Codec};
use crate::error::{Error, Result};
use crate::format::{
    pack_key, ChunkId, ChunkerParams, Entry, EntryKind, FileHasher, Hash32, IndexObject, Location,
    SnapshotStats,
};
use crate::storage::Storage;

pub(super) struct Pipeline {
    pub(super) storage: Arc<dyn Storage>,
    pub(super) codec: Codec,
    pub(super) chunker: ChunkerParams,
    pub(super) pack_size: usize,
    pub(super) threads: usize,
    pub(super) known: HashSet<ChunkId>,
    /// The parent snapshot's files, to skip reading those that have not changed.
    pub(super) parent: HashMap<String, Entry>,
    pub(super) progress: ProgressFn,
    pub(super) handle: tokio::runtime::Handle,
    pub(super) read_limit: Option<u64>,
    /// Set when the caller gave up: stop reading, upload nothing more.
    pub(super) stop: Arc<AtomicBool>,
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

pub(super) struct Output {
    pub(super) entries: Vec<Entry>,
    pub(super) stats: SnapshotStats,
}

impl Pipeline {
    pub(super) fn run(self, planned: Vec<Planned>) -> Result<Output> {
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
