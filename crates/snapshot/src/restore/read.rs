//! Reading a snapshot back: chunks fetched from their packs in ranged requests, each checked
//! against its id and every file against its size and hash, on a pool of threads over the
//! files. Restore hands what it reads to the files it writes; verify only counts it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::VerifyReport;
use crate::crypto::{ChunkDecoder, Codec};
use crate::error::{Error, Result};
use crate::format::{pack_key, ChunkId, Entry, EntryKind, FileHasher, Hash32, Location, Manifest};
use crate::repo::Repository;
use crate::storage::Storage;

/// Reads ranges of packs larger than this as several requests (memory: one range per thread).
const MAX_RANGE: u64 = 8 << 20;

impl Repository {
    pub(super) fn chunk_reader(&self, snapshot: Hash32) -> ChunkReader {
        ChunkReader {
            storage: self.storage.clone(),
            codec: self.codec.clone(),
            handle: tokio::runtime::Handle::current(),
            snapshot,
        }
    }
}

/// Reads chunks of one snapshot from packs, checked, from a blocking thread.
pub(super) struct ChunkReader {
    storage: Arc<dyn Storage>,
    codec: Codec,
    handle: tokio::runtime::Handle,
    snapshot: Hash32,
}

impl ChunkReader {
    fn damaged(&self, file: &str, reason: String) -> Error {
        Error::FileDamaged {
            snapshot: self.snapshot.short(),
            file: file.to_owned(),
            reason,
        }
    }

    /// Feeds the file's chunks, in order and verified, to `sink`; then checks size and hash.
    pub(super) fn read_file(
        &self,
        entry: &Entry,
        plan: &HashMap<ChunkId, Location>,
        mut sink: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<u64> {
        let EntryKind::File { size, hash, chunks } = &entry.kind else {
            return Ok(0);
        };
        let mut file_hash = FileHasher::default();
        let mut decoder = ChunkDecoder::new(&self.codec);
        let mut data = Vec::new();
        let mut done = 0u64;
        let mut at = 0;
        while at < chunks.len() {
            // One request for a run of chunks that lie back to back in the same pack.
            let first = plan[&chunks[at]];
            let mut end = at + 1;
            let mut span_end = first.offset as u64 + first.stored_len as u64;
            while end < chunks.len() {
                let next = plan[&chunks[end]];
                if next.pack != first.pack
                    || next.offset as u64 != span_end
                    || span_end + next.stored_len as u64 - first.offset as u64 > MAX_RANGE
                {
                    break;
                }
                span_end += next.stored_len as u64;
                end += 1;
            }
            let bytes = self
                .handle
                .block_on(
                    self.storage
                        .get_range(&pack_key(&first.pack), first.offset as u64..span_end),
                )
                .map_err(|e| {
                    self.damaged(&entry.path, format!("pack {}: {e}", first.pack.short()))
                })?;
            for chunk in &chunks[at..end] {
                let location = plan[chunk];
                let from = (location.offset - first.offset) as usize;
                let stored = bytes
                    .get(from..from + location.stored_len as usize)
                    .ok_or_else(|| {
                        self.damaged(
                            &entry.path,
                            format!("pack {} is shorter than its index says", first.pack.short()),
                        )
                    })?;
                decoder
                    .decode(chunk, stored, location.raw_len as usize, &mut data)
                    .map_err(|reason| {
                        self.damaged(
                            &entry.path,
                            format!("pack {}: {reason}", location.pack.short()),
                        )
                    })?;
                file_hash.chunk(chunk, data.len());
                done += data.len() as u64;
                sink(&data)?;
            }
            at = end;
        }
        if done != *size {
            return Err(self.damaged(
                &entry.path,
                format!("restored {done} bytes, the snapshot says {size}"),
            ));
        }
        if file_hash.finish() != *hash {
            return Err(self.damaged(&entry.path, "content does not match the file's hash".into()));
        }
        Ok(done)
    }
}

/// Runs `work` over the manifest's files on `threads` threads, largest files first; stops at
/// the first error and returns it.
pub(super) fn for_each_file(
    manifest: &Manifest,
    threads: usize,
    work: impl Fn(&Entry) -> Result<()> + Sync,
) -> Result<()> {
    let mut files: Vec<&Entry> = manifest.files().map(|(e, ..)| e).collect();
    files.sort_by_key(|e| {
        std::cmp::Reverse(match e.kind {
            EntryKind::File { size, .. } => size,
            _ => 0,
        })
    });
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(files.len()).max(1) {
            scope.spawn(|| loop {
                let at = next.fetch_add(1, Ordering::SeqCst);
                if at >= files.len() || failed.load(Ordering::SeqCst) {
                    return;
                }
                if let Err(error) = work(files[at]) {
                    first_error
                        .lock()
                        .expect("not poisoned")
                        .get_or_insert(error);
                    failed.store(true, Ordering::SeqCst);
                    return;
                }
            });
        }
    });
    match first_error.into_inner().expect("not poisoned") {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

pub(super) fn verify_all(
    reader: &ChunkReader,
    manifest: &Manifest,
    plan: &HashMap<ChunkId, Location>,
    threads: usize,
) -> Result<VerifyReport> {
    let (chunks, bytes) = (AtomicU64::new(0), AtomicU64::new(0));
    for_each_file(manifest, threads, |entry| {
        reader.read_file(entry, plan, |data| {
            chunks.fetch_add(1, Ordering::Relaxed);
            bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
            Ok(())
        })?;
        Ok(())
    })?;
    Ok(VerifyReport {
        files: manifest.files().count() as u64,
        chunks_checked: chunks.into_inner(),
        bytes_checked: bytes.into_inner(),
    })
}

pub(super) fn verify_sample(
    reader: &ChunkReader,
    manifest: &Manifest,
    plan: &HashMap<ChunkId, Location>,
    percent: u8,
) -> Result<VerifyReport> {
    let mut report = VerifyReport {
        files: manifest.files().count() as u64,
        ..VerifyReport::default()
    };
    let percent = percent.min(100) as u32;
    let mut seen = std::collections::HashSet::new();
    for (entry, ..) in manifest.files() {
        let EntryKind::File { chunks, .. } = &entry.kind else {
            continue;
        };
        for chunk in chunks {
            let mut roll = [0u8; 4];
            getrandom::fill(&mut roll).expect("random source");
            if u32::from_le_bytes(roll) % 100 >= percent || !seen.insert(*chunk) {
                continue;
            }
            let location = plan[chunk];
            let stored = reader
                .handle
                .block_on(reader.storage.get_range(
                    &pack_key(&location.pack),
                    location.offset as u64..location.offset as u64 + location.stored_len as u64,
                ))
                .map_err(|e| {
                    reader.damaged(&entry.path, format!("pack {}: {e}", location.pack.short()))
                })?;
            reader
                .codec
                .decode_chunk(chunk, &stored, location.raw_len as usize)
                .map_err(|reason| {
                    reader.damaged(
                        &entry.path,
                        format!("pack {}: {reason}", location.pack.short()),
                    )
                })?;
            report.chunks_checked += 1;
            report.bytes_checked += location.raw_len as u64;
        }
    }
    Ok(report)
}
