//! Each project's recent list of backups.

use crate::clock::Clock;
use crate::error::Result;
use crate::kept::Kept;
use crate::ports::Store;
use cairn_model::{Backup, ProjectId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long a project's list of backups is answered from memory: an API client listing many
/// times a second costs a query a second, not one a call. Writes through this instance show
/// at once; another instance's, within this time.
pub const BACKUP_LIST_KEPT: chrono::TimeDelta = chrono::TimeDelta::milliseconds(500);
/// Projects whose lists are kept at most (a bound, whatever the number of projects).
const BACKUP_LISTS_HELD: usize = 1_000;

/// A project's list of backups, shared by every caller answered from it.
pub(crate) type List = Arc<Vec<Backup>>;

/// Recent lists of backups, by project (see [`BACKUP_LIST_KEPT`] and [`crate::kept`]). One
/// reader at a time reads a project's list again; meanwhile the others get the one it
/// replaces (at most twice as old), so two hundred clients arriving together make one query,
/// not two hundred.
pub(crate) struct BackupLists {
    pub(crate) lists: Kept<ProjectId, List>,
    readers: Mutex<HashMap<ProjectId, Arc<tokio::sync::Mutex<()>>>>,
}

impl Default for BackupLists {
    fn default() -> Self {
        BackupLists {
            lists: Kept::new(BACKUP_LISTS_HELD),
            readers: Mutex::default(),
        }
    }
}

impl BackupLists {
    pub(crate) async fn read(
        &self,
        clock: &dyn Clock,
        store: &dyn Store,
        project: &ProjectId,
    ) -> Result<List> {
        let now = clock.now();
        if let Some(list) = self.lists.get(project, now) {
            return Ok(list);
        }
        let reader = self.reader(project);
        let _turn = match reader.clone().try_lock_owned() {
            Ok(turn) => turn,
            Err(_) => match self.lists.get_within(project, now, BACKUP_LIST_KEPT) {
                Some(list) => return Ok(list),
                None => reader.lock_owned().await,
            },
        };
        // Read by whoever had the turn before?
        if let Some(list) = self.lists.get(project, clock.now()) {
            return Ok(list);
        }
        let reading = self.lists.reading();
        let list = Arc::new(store.backups(project).await?);
        self.lists.keep(
            reading,
            project.clone(),
            list.clone(),
            now + BACKUP_LIST_KEPT,
        );
        Ok(list)
    }

    /// The lock whose holder reads the project's list again.
    fn reader(&self, project: &ProjectId) -> Arc<tokio::sync::Mutex<()>> {
        let mut readers = self.readers.lock().expect("backup list readers");
        if readers.len() >= BACKUP_LISTS_HELD && !readers.contains_key(project) {
            readers.clear();
        }
        readers.entry(project.clone()).or_default().clone()
    }
}
