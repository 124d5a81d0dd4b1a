//! Cancelling a backup being created: the snapshot task is told who asks and answers once
//! the backup's end is recorded.

use super::backup_summary;
use crate::audit::{Record, Subject};
use crate::error::{Error, Result};
use crate::services::{Scope, Services};
use cairn_model::audit::actions;
use cairn_model::{Backup, BackupId, BackupStatus, Permission};
use tokio::sync::oneshot;

/// How long a cancel waits for the snapshot to stop and its partial data to be collected.
const CANCEL_SETTLES_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

impl Services {
    /// Stops a backup being created: the snapshot stops, what it wrote is collected, the
    /// backup ends `cancelled` ("cancelled by …" in its failure reason and its job run), and the
    /// cluster's lock is released. Answers the backup once that is done.
    pub async fn cancel_backup(&self, scope: &Scope, id: &BackupId) -> Result<Backup> {
        let record = Record::in_scope(
            scope,
            actions::BACKUP_CANCEL,
            Subject::new("backup", id, ""),
        );
        self.audited(record, self.cancelling_backup(scope, id), |backup, _| {
            Subject::new("backup", id, backup_summary(backup))
        })
        .await
    }

    async fn cancelling_backup(&self, scope: &Scope, id: &BackupId) -> Result<Backup> {
        scope.require(Permission::Operate)?;
        let backup = self.get_backup(scope, id).await?;
        if backup.status != BackupStatus::Creating {
            return Err(Error::conflict(format!(
                "backup {id} is {}: only a backup being created can be cancelled",
                backup.status.as_str()
            )));
        }
        let canceller = self.inner().cancels.lock().expect("cancel map").remove(id);
        let ending = || {
            Error::conflict(format!(
                "backup {id} is ending on its own: it can no longer be cancelled"
            ))
        };
        let Some(canceller) = canceller else {
            let owner = self
                .inner()
                .store
                .locks()
                .await?
                .into_iter()
                .find(|l| l.holder_id == id.as_str())
                .map(|l| l.owner);
            return Err(match owner {
                Some(owner) if owner != self.inner().instance => Error::conflict(format!(
                    "backup {id} is being taken by another Cairn instance ({owner}): cancel it there"
                )),
                _ => ending(),
            });
        };
        let who = match scope.actor() {
            crate::scope::Actor::Person(principal) => principal.user().email.clone(),
            crate::scope::Actor::Internal(part) => format!("Cairn ({})", part.name()),
        };
        let (stopped, settled) = oneshot::channel();
        if canceller.send((who, stopped)).is_err() {
            return Err(ending());
        }
        // The snapshot task answers once the backup's end is recorded: cancelled, or (when its
        // snapshot ended just before) as it ended.
        let in_time = tokio::time::timeout(CANCEL_SETTLES_WITHIN, settled)
            .await
            .is_ok();
        let backup = self.get_backup(scope, id).await?;
        match backup.status {
            BackupStatus::Cancelled => Ok(backup),
            BackupStatus::Creating if !in_time => Err(Error::conflict(format!(
                "backup {id} is still stopping: it ends cancelled shortly"
            ))),
            other => Err(Error::conflict(format!(
                "backup {id} ended {} before it could be cancelled",
                other.as_str()
            ))),
        }
    }
}
