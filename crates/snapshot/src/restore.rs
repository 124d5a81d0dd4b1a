//! Restore and verify: every chunk is checked against its hash and every file against its
//! content hash. Restore writes into a hidden staging folder beside the target and renames it
//! into place only when all of it is good, so a damaged snapshot never leaves files that look
//! restored.
//!
//! Here: the entry points and what is checked before anything is written (every chunk found in
//! an existing pack, every path inside the target); `read` fetches and checks the chunks, `write`
//! writes the tree.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::backup::{Progress, ProgressFn};
use crate::error::{Error, Result};
use crate::format::{pack_key, ChunkId, EntryKind, Hash32, Location, Manifest};
use crate::repo::Repository;

mod read;
mod write;

use read::{verify_all, verify_sample};
use write::write_tree;

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

#[cfg(test)]
mod tests;
