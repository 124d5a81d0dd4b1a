//! The walk: the source directory listed depth-first in name order, each entry with its
//! metadata, before any content is read (and the files read before it, a live log's
//! checkpoint).

use std::collections::HashMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::{Entry, EntryKind, Hash32, Stamp};

/// An entry found by the walk, before its content is read.
pub(super) struct Planned {
    pub(super) entry: Entry,
    pub(super) source: PathBuf,
    /// The content, when it was read before the walk (`BackupOptions::read_first`).
    pub(super) preread: Option<Vec<u8>>,
}

/// The files to read before the walk, with their metadata as it was when read.
pub(super) fn read_before_walk(
    root: &Path,
    paths: &[String],
) -> Result<HashMap<String, (Entry, Vec<u8>)>> {
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
pub(super) fn walk(root: &Path) -> Result<(Vec<Planned>, u64)> {
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
