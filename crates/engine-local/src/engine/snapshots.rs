//! A backup's snapshot found, a restored volume cleaned, and the regions' garbage collection
//! after deletions: at most once a minute per region, the rest left to the maintenance pass.

use std::path::Path;
use std::time::{Duration, Instant};

use cairn_core::ports::EngineError;
use cairn_model::Backup;
use cairn_snapshot::Repository;

use super::{failed, LocalEngine};

/// A region's garbage collection: at most one a minute, however many backups are deleted.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Collection {
    last: Option<Instant>,
    wanted: bool,
}

/// Deletions within this long of a collection wait for the next maintenance pass.
const COLLECT_AT_MOST_EVERY: Duration = Duration::from_secs(60);

impl LocalEngine {
    /// Frees what no snapshot of the region needs any more: deleted backups' data, and what a
    /// backup cut short left (packs written before Cairn was killed, say). Waits briefly for
    /// running backups; when they take longer, the next deletion collects it.
    pub async fn collect_garbage(&self, region: &str) -> Result<(), EngineError> {
        let repository = self
            .repository(region)
            .await?
            .with_lock_wait(Duration::from_secs(5));
        self.collections.lock().expect("not poisoned").insert(
            region.to_owned(),
            Collection {
                last: Some(Instant::now()),
                wanted: false,
            },
        );
        match repository.gc().await {
            Ok(report) => {
                tracing::info!(region, ?report, "snapshot repository collected");
                Ok(())
            }
            Err(cairn_snapshot::Error::Locked(holder)) => {
                tracing::info!(region, %holder, "garbage collection put off: the repository is in use");
                self.want_collection(region);
                Ok(())
            }
            Err(error) => {
                self.want_collection(region);
                Err(failed("collecting the snapshot repository", error))
            }
        }
    }

    fn want_collection(&self, region: &str) {
        let mut collections = self.collections.lock().expect("not poisoned");
        collections.entry(region.to_owned()).or_default().wanted = true;
    }

    /// Collects the region now unless it was collected within the last minute; then the next
    /// maintenance pass does. So deleting a thousand backups runs a handful of collections,
    /// not a thousand.
    pub(super) async fn collect_soon(&self, region: &str) -> Result<(), EngineError> {
        let recent = {
            let collections = self.collections.lock().expect("not poisoned");
            collections
                .get(region)
                .and_then(|c| c.last)
                .is_some_and(|last| last.elapsed() < COLLECT_AT_MOST_EVERY)
        };
        if recent {
            self.want_collection(region);
            Ok(())
        } else {
            self.collect_garbage(region).await
        }
    }

    /// Regions whose collection was put off and is due now.
    pub(super) fn collections_due(&self) -> Vec<String> {
        let collections = self.collections.lock().expect("not poisoned");
        collections
            .iter()
            .filter(|(_, c)| {
                c.wanted && c.last.is_none_or(|l| l.elapsed() >= COLLECT_AT_MOST_EVERY)
            })
            .map(|(region, _)| region.clone())
            .collect()
    }
}

/// The snapshot of a backup: the one it names, or else the newest carrying its id as label.
pub(super) async fn find_snapshot(
    repository: &Repository,
    backup: &Backup,
) -> Result<cairn_snapshot::Hash32, EngineError> {
    if let Some(id) = backup
        .checksum
        .as_deref()
        .and_then(cairn_snapshot::Hash32::parse)
    {
        return Ok(id);
    }
    let found = repository
        .find_by_label(backup.id.as_str())
        .await
        .map_err(|e| failed("snapshot repository", e))?;
    found.last().map(|s| s.id).ok_or_else(|| {
        EngineError::Failed(format!(
            "no snapshot of backup {} in region {}",
            backup.id, backup.region
        ))
    })
}

/// A restored volume carries its source's pid file and lock file: neither means anything here.
pub(super) fn clean_restored_volume(volume: &Path) {
    let _ = std::fs::remove_file(volume.join(crate::node::PID_FILE));
    let _ = std::fs::remove_file(volume.join("node.log"));
}
