//! Writing a restored tree into the staging folder: directories first, then the files (on
//! several threads, each synced), then symlinks, and the directories' modes and times last.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::read::{for_each_file, ChunkReader};
use crate::backup::{Progress, ProgressFn};
use crate::error::{Error, Result};
use crate::format::{ChunkId, Entry, EntryKind, Location, Manifest};

/// Written data is handed to the disk every this many bytes, so that the final fsync of each
/// file finds little left to write (the kernel would otherwise hold it all until then).
const WRITEBACK_EVERY: u64 = 8 << 20;

pub(super) fn write_tree(
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
