//! A node's volume and the snapshot repository: backups of live volumes, restores into new ones.

use std::path::Path;

use cairn_snapshot::{BackupOptions, Progress, Repository, Summary};

use crate::log::CHECKPOINT;

/// Snapshots a node's volume while it keeps taking writes: the checkpoint is read before
/// anything else, so the snapshot holds all the data it covers (and perhaps more, which the
/// restored node cuts off when it opens its log): a consistent prefix, never a torn event.
pub async fn snapshot_live_volume(
    repository: &Repository,
    volume: &Path,
    label: Option<String>,
    progress: impl Fn(Progress) + Send + Sync + 'static,
) -> Result<Summary, cairn_snapshot::Error> {
    let options = BackupOptions {
        read_first: vec![CHECKPOINT.to_owned()],
        label,
        ..BackupOptions::default()
    };
    repository.backup_with(volume, options, progress).await
}
