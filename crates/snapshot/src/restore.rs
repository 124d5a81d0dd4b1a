//! Restore and verify: every chunk is checked against its hash and every file against its
//! content hash. Restore writes into a hidden staging folder beside the target and renames it
//! into place only when all of it is good, so a damaged snapshot never leaves files that look
//! restored.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::backup::{Progress, ProgressFn};
use crate::crypto::{ChunkDecoder, Codec};
use crate::error::{Error, Result};
use crate::format::{pack_key, ChunkId, Entry, EntryKind, FileHasher, Hash32, Location, Manifest};
use crate::repo::Repository;
use crate::storage::Storage;

/// How much of a snapshot `verify` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyMode {
    /// Every chunk and every file, as a restore would.
    ReadAll,
    /// Structure fully (manifest, every chunk indexed, every pack present), and this percentage
    /// of the chunks read and checked, chosen at random.
    Sample { percent: u8 },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub files: u64,
    pub chunks_checked: u64,
    pub bytes_checked: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreSummary {
    pub files: u64,
    pub bytes: u64,
}

/// Reads ranges of packs larger than this as several requests (memory: one range per thread).
const MAX_RANGE: u64 = 8 << 20;
/// Written data is handed to the disk every this many bytes, so that the final fsync of each
/// file finds little left to write (the kernel would otherwise hold it all until then).
const WRITEBACK_EVERY: u64 = 8 << 20;

impl Repository {
    /// Restores snapshot `id` into `target`, which must not exist or be an empty directory.
    pub async fn restore(
        &self,
        id: &Hash32,
        target: &Path,
        progress: impl Fn(Progress) + Send + Sync + 'static,
    ) -> Result<RestoreSummary> {
        self.restore_each(id, &[target], progress)
            .await
            .map(|mut done| done.remove(0))
    }

    /// Restores snapshot `id` into each of `targets` in turn (a cluster's nodes), under one
    /// lock: the snapshot cannot be deleted between two of them. Each target must not exist
    /// or be an empty directory; all are checked before anything is written.
    pub async fn restore_each(
        &self,
        id: &Hash32,
        targets: &[&Path],
        progress: impl Fn(Progress) + Send + Sync + 'static,
    ) -> Result<Vec<RestoreSummary>> {
        for target in targets {
            if target_has_content(target)? {
                return Err(Error::TargetNotEmpty(target.to_path_buf()));
            }
        }
        let lock = self.lock_to_use(id, "restore").await?;
        let progress: ProgressFn = Arc::new(progress);
        let mut done = Vec::with_capacity(targets.len());
        let mut result = Ok(());
        for target in targets {
            match self.restore_locked(id, target, progress.clone()).await {
                Ok(summary) => done.push(summary),
                Err(error) => {
                    result = Err(error);
                    break;
                }
            }
        }
        lock.release().await;
        result.map(|()| done)
    }

    async fn restore_locked(
        &self,
        id: &Hash32,
        target: &Path,
        progress: ProgressFn,
    ) -> Result<RestoreSummary> {
        let manifest = Arc::new(self.load_manifest(id).await?);
        let plan = Arc::new(self.plan_reads(id, &manifest).await?);
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(Error::io(&parent))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "restore".into());
        let mut suffix = [0u8; 6];
        getrandom::fill(&mut suffix).expect("random source");
        let staging = parent.join(format!(".{name}.cairn-restore-{}", hex::encode(suffix)));

        let reader = self.chunk_reader(*id);
        let (target_owned, staging_owned) = (target.to_owned(), staging.clone());
        let threads = self.threads();
        let result = tokio::task::spawn_blocking(move || {
            write_tree(
                &reader,
                &manifest,
                &plan,
                &staging_owned,
                threads,
                &progress,
            )?;
            if target_owned.exists() {
                // Empty (checked above): rename cannot replace a directory that has entries.
                std::fs::remove_dir(&target_owned).map_err(Error::io(&target_owned))?;
            }
            std::fs::rename(&staging_owned, &target_owned).map_err(Error::io(&target_owned))?;
            let files = manifest.files().count() as u64;
            Ok(RestoreSummary {
                files,
                bytes: manifest.stats.bytes,
            })
        })
        .await
        .expect("the restore does not panic");
        if result.is_err() && staging.exists() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        result
    }

    /// Checks snapshot `id` without writing anything.
    pub async fn verify(&self, id: &Hash32, mode: VerifyMode) -> Result<VerifyReport> {
        let lock = self.lock_to_use(id, "verify").await?;
        let result = self.verify_locked(id, mode).await;
        lock.release().await;
        result
    }

    async fn verify_locked(&self, id: &Hash32, mode: VerifyMode) -> Result<VerifyReport> {
        let manifest = Arc::new(self.load_manifest(id).await?);
        let plan = Arc::new(self.plan_reads(id, &manifest).await?);
        self.check_packs_present(id, &manifest, &plan).await?;
        let reader = self.chunk_reader(*id);
        let threads = self.threads();
        tokio::task::spawn_blocking(move || match mode {
            VerifyMode::ReadAll => verify_all(&reader, &manifest, &plan, threads),
            VerifyMode::Sample { percent } => verify_sample(&reader, &manifest, &plan, percent),
        })
        .await
        .expect("verify does not panic")
    }

    /// Where every chunk of the manifest is; a chunk in no index is an error naming its file,
    /// and so is a path that would write outside the target (a tampered manifest).
    async fn plan_reads(
        &self,
        id: &Hash32,
        manifest: &Manifest,
    ) -> Result<HashMap<ChunkId, Location>> {
        check_paths(id, manifest)?;
        let usable = self.usable_locations().await?;
        let mut plan = HashMap::new();
        for (entry, _, _, chunks) in manifest.files() {
            for chunk in chunks {
                match usable.get(chunk) {
                    Some(location) => {
                        plan.insert(*chunk, *location);
                    }
                    None => {
                        return Err(Error::FileDamaged {
                            snapshot: id.short(),
                            file: entry.path.clone(),
                            reason: format!(
                                "chunk {} is in no existing pack (its pack is lost)",
                                chunk.short()
                            ),
                        })
                    }
                }
            }
        }
        Ok(plan)
    }

    /// Every pack the snapshot needs exists and is long enough.
    async fn check_packs_present(
        &self,
        id: &Hash32,
        manifest: &Manifest,
        plan: &HashMap<ChunkId, Location>,
    ) -> Result<()> {
        let mut needed: HashMap<Hash32, u64> = HashMap::new();
        for location in plan.values() {
            let end = location.offset as u64 + location.stored_len as u64;
            let slot = needed.entry(location.pack).or_default();
            *slot = (*slot).max(end);
        }
        for (pack, end) in needed {
            let size = self.storage.head(&pack_key(&pack)).await?;
            if size.is_none_or(|size| size < end) {
                let file = manifest
                    .files()
                    .find(|(_, _, _, chunks)| chunks.iter().any(|c| plan[c].pack == pack))
                    .map(|(e, ..)| e.path.clone())
                    .unwrap_or_default();
                let what = if size.is_none() {
                    "is missing"
                } else {
                    "is truncated"
                };
                return Err(Error::FileDamaged {
                    snapshot: id.short(),
                    file,
                    reason: format!("pack {} {what}", pack.short()),
                });
            }
        }
        Ok(())
    }

    fn chunk_reader(&self, snapshot: Hash32) -> ChunkReader {
        ChunkReader {
            storage: self.storage.clone(),
            codec: self.codec.clone(),
            handle: tokio::runtime::Handle::current(),
            snapshot,
        }
    }
}

/// Every path stays inside the snapshot: relative, made of plain names only, each under a
/// directory of the snapshot (never under a symlink, which restore creates last). A manifest
/// that says otherwise was not written by a backup.
fn check_paths(id: &Hash32, manifest: &Manifest) -> Result<()> {
    use std::path::Component;
    let mut dirs: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for entry in &manifest.entries {
        let refuse = |reason: &str| Error::FileDamaged {
            snapshot: id.short(),
            file: entry.path.clone(),
            reason: reason.into(),
        };
        if entry.path.is_empty() {
            if !matches!(entry.kind, EntryKind::Dir) {
                return Err(refuse("the snapshot's root is not a directory"));
            }
            dirs.insert("");
            continue;
        }
        let plain = Path::new(&entry.path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
            && entry
                .path
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        if !plain || entry.path.contains('\0') || entry.path.ends_with('/') {
            return Err(refuse(
                "the path is absolute, not plain, or leaves the snapshot; nothing was restored",
            ));
        }
        let parent = entry.path.rsplit_once('/').map_or("", |(parent, _)| parent);
        if !dirs.contains(parent) {
            return Err(refuse(
                "the path is not under a directory of the snapshot; nothing was restored",
            ));
        }
        if !seen.insert(&entry.path) {
            return Err(refuse(
                "the path is in the snapshot twice; nothing was restored",
            ));
        }
        if let EntryKind::Symlink { target } = &entry.kind {
            if !stays_inside(parent, target) {
                return Err(refuse(
                    "the symlink points outside the snapshot; nothing was restored",
                ));
            }
        }
        if matches!(entry.kind, EntryKind::Dir) {
            dirs.insert(&entry.path);
        }
    }
    Ok(())
}

/// Whether a symlink in `dir` (relative to the root) pointing at `target` stays inside the
/// root, read as written (a restored volume is opened by programs that follow links).
fn stays_inside(dir: &str, target: &str) -> bool {
    use std::path::Component;
    let mut depth = dir.split('/').filter(|p| !p.is_empty()).count();
    for component in Path::new(target).components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir if depth > 0 => depth -= 1,
            _ => return false,
        }
    }
    true
}

fn target_has_content(target: &Path) -> Result<bool> {
    match std::fs::symlink_metadata(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::Io {
            path: target.to_owned(),
            source: e,
        }),
        Ok(meta) if !meta.is_dir() => Ok(true),
        Ok(_) => Ok(std::fs::read_dir(target)
            .map_err(Error::io(target))?
            .next()
            .is_some()),
    }
}

/// Reads chunks of one snapshot from packs, checked, from a blocking thread.
struct ChunkReader {
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
    fn read_file(
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
fn for_each_file(
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

fn write_tree(
    reader: &ChunkReader,
    manifest: &Manifest,
    plan: &HashMap<ChunkId, Location>,
    root: &Path,
    threads: usize,
    progress: &ProgressFn,
) -> Result<()> {
    std::fs::create_dir(root).map_err(Error::io(root))?;
    for entry in &manifest.entries {
        if matches!(entry.kind, EntryKind::Dir) && !entry.path.is_empty() {
            let path = root.join(&entry.path);
            std::fs::create_dir(&path).map_err(Error::io(&path))?;
        }
    }
    let total = Progress {
        bytes_total: manifest.stats.bytes,
        files_total: manifest.files().count() as u64,
        ..Progress::default()
    };
    progress(total);
    let (bytes_done, files_done) = (AtomicU64::new(0), AtomicU64::new(0));
    for_each_file(manifest, threads, |entry| {
        let path = root.join(&entry.path);
        let mut file = File::create(&path).map_err(Error::io(&path))?;
        let (mut written, mut handed) = (0u64, 0u64);
        reader.read_file(entry, plan, |data| {
            file.write_all(data).map_err(Error::io(&path))?;
            written += data.len() as u64;
            if written - handed >= WRITEBACK_EVERY {
                start_writeback(&file, handed, written - handed);
                handed = written;
            }
            let done =
                bytes_done.fetch_add(data.len() as u64, Ordering::Relaxed) + data.len() as u64;
            progress(Progress {
                bytes_done: done,
                files_done: files_done.load(Ordering::Relaxed),
                ..total
            });
            Ok(())
        })?;
        file.sync_all().map_err(Error::io(&path))?;
        drop(file);
        files_done.fetch_add(1, Ordering::Relaxed);
        set_metadata(&path, entry)
    })?;
    for entry in &manifest.entries {
        if let EntryKind::Symlink { target } = &entry.kind {
            let path = root.join(&entry.path);
            std::os::unix::fs::symlink(target, &path).map_err(Error::io(&path))?;
            let mtime = filetime::FileTime::from_unix_time(entry.mtime, entry.mtime_nanos);
            filetime::set_symlink_file_times(&path, mtime, mtime).map_err(Error::io(&path))?;
        }
    }
    // Directories last and deepest first: creating their children changed their times.
    for entry in manifest.entries.iter().rev() {
        if matches!(entry.kind, EntryKind::Dir) {
            set_metadata(&root.join(&entry.path), entry)?;
        }
    }
    progress(Progress {
        bytes_done: manifest.stats.bytes,
        files_done: total.files_total,
        ..total
    });
    Ok(())
}

/// Asks the kernel to start writing a range to disk now, without waiting for it.
fn start_writeback(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid open descriptor and a plain range; the call only schedules writeback.
    unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            offset as i64,
            len as i64,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
}

fn set_metadata(path: &Path, entry: &Entry) -> Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(entry.mode))
        .map_err(Error::io(path))?;
    let mtime = filetime::FileTime::from_unix_time(entry.mtime, entry.mtime_nanos);
    filetime::set_file_mtime(path, mtime).map_err(Error::io(path))
}

fn verify_all(
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

fn verify_sample(
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

#[cfg(test)]
mod tests;
