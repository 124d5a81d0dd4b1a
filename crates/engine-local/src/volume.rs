//! A node's volume and the snapshot repository: backups of live volumes, restores into new ones.

use std::path::Path;

use cairn_snapshot::{BackupOptions, Progress, Repository, Summary};

use crate::log::CHECKPOINT;

/// How to snapshot a live volume.
#[derive(Debug, Clone, Default)]
pub struct LiveSnapshot {
    /// Kept in the snapshot, to find it by: the backup's id.
    pub label: String,
    /// Bytes per second read at most (`None`: no limit).
    pub read_limit: Option<u64>,
}

/// Snapshots a node's volume while it keeps taking writes: the checkpoint is read before
/// anything else, so the snapshot holds all the data it covers (and perhaps more, which the
/// restored node cuts off when it opens its log): a consistent prefix, never a torn event.
pub async fn snapshot_live_volume(
    repository: &Repository,
    volume: &Path,
    options: LiveSnapshot,
    progress: impl Fn(Progress) + Send + Sync + 'static,
) -> Result<Summary, cairn_snapshot::Error> {
    let options = BackupOptions {
        read_first: vec![CHECKPOINT.to_owned()],
        label: Some(options.label),
        read_limit: options.read_limit,
        ..BackupOptions::default()
    };
    repository.backup_with(volume, options, progress).await
}
