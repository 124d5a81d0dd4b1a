//! Retention of a job's backups (domain.md §5): after each successful run, keep the newest
//! `maxBackupCount` available backups and delete the rest, and every defunct or cancelled one
//! (neither holds usable data). They never take a slot; one-off backups are never touched (they belong to no job).
//! Planned first (a pure function, shown as a dry run), then executed.

use cairn_model::{Backup, BackupId, BackupStatus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrunePlan {
    /// Available backups kept, newest first.
    pub keep: Vec<BackupId>,
    /// Backups to delete, each with why.
    pub delete: Vec<(BackupId, String)>,
    /// Backups due for deletion but kept for now, each with why (a cluster is being restored
    /// from it): a later prune deletes them.
    pub deferred: Vec<(BackupId, String)>,
}

/// `backups` are one job's backups (any order); `restoring` says, of a backup, which cluster
/// is being restored from it now.
pub fn plan_prune(
    backups: &[Backup],
    max_backup_count: u32,
    restoring: impl Fn(&BackupId) -> Option<String>,
) -> PrunePlan {
    let mut available: Vec<&Backup> = backups
        .iter()
        .filter(|b| b.status == BackupStatus::Available)
        .collect();
    available.sort_by(|a, b| (b.created, &b.id).cmp(&(a.created, &a.id)));
    let keep_count = max_backup_count as usize;
    let keep = available
        .iter()
        .take(keep_count)
        .map(|b| b.id.clone())
        .collect();
    let mut delete: Vec<(BackupId, String)> = available
        .iter()
        .skip(keep_count)
        .map(|b| {
            (
                b.id.clone(),
                format!("older than the newest {max_backup_count} backups of its job"),
            )
        })
        .collect();
    delete.extend(
        backups
            .iter()
            .filter(|b| matches!(b.status, BackupStatus::Defunct | BackupStatus::Cancelled))
            .map(|b| (b.id.clone(), b.status.as_str().to_owned())),
    );
    let mut deferred = Vec::new();
    delete.retain(|(id, reason)| match restoring(id) {
        None => true,
        Some(cluster) => {
            let why = format!("{reason}, but cluster {cluster} is being restored from it");
            deferred.push((id.clone(), why));
            false
        }
    });
    PrunePlan {
        keep,
        delete,
        deferred,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup(n: u32, status: BackupStatus) -> Backup {
        let id = cairn_model::RawId::from_parts(1_700_000_000 + n, [0; 3], 0, n);
        serde_json::from_value(serde_json::json!({
            "id": id.encode(), "projectId": "c10d0h2rh41lba1v92k0", "description": format!("b{n}"),
            "sourceClusterId": "c1eut65o0aeu6ojco7a0", "sourceClusterDescription": "orders",
            "provider": "local", "region": "local-1", "serverVersion": "24.10",
            "serverVersionTag": "24.10.1", "sizeGb": 8, "availableNodeCount": 1,
            "status": status, "created": id.time(), "linkedResource": "c10dvoarh41lb9otkdrg"
        }))
        .unwrap()
    }

    #[test]
    fn the_newest_available_backups_are_kept_and_the_oldest_deleted() {
        let backups: Vec<_> = (1..=6)
            .map(|n| backup(n, BackupStatus::Available))
            .collect();
        let plan = plan_prune(&backups, 4, |_| None);
        assert_eq!(
            plan.keep,
            [
                &backups[5].id,
                &backups[4].id,
                &backups[3].id,
                &backups[2].id
            ]
            .map(Clone::clone)
        );
        let deleted: Vec<_> = plan.delete.iter().map(|(id, _)| id.clone()).collect();
        assert_eq!(deleted, [backups[1].id.clone(), backups[0].id.clone()]);
    }

    #[test]
    fn defunct_backups_never_take_a_slot_and_are_always_deleted() {
        let backups = vec![
            backup(1, BackupStatus::Available),
            backup(2, BackupStatus::Defunct),
            backup(3, BackupStatus::Available),
            backup(4, BackupStatus::Defunct),
        ];
        let plan = plan_prune(&backups, 2, |_| None);
        assert_eq!(plan.keep, [backups[2].id.clone(), backups[0].id.clone()]);
        assert_eq!(
            plan.delete,
            [
                (backups[1].id.clone(), "defunct".to_string()),
                (backups[3].id.clone(), "defunct".to_string())
            ]
        );
    }

    #[test]
    fn a_backup_being_restored_is_deferred_not_deleted() {
        let backups: Vec<_> = (1..=3)
            .map(|n| backup(n, BackupStatus::Available))
            .collect();
        let restoring = backups[0].id.clone();
        let plan = plan_prune(&backups, 1, |id| {
            (*id == restoring).then(|| "c1mnqjdo0aembuk4ljo0".to_owned())
        });
        assert_eq!(plan.delete.len(), 1);
        assert_eq!(plan.delete[0].0, backups[1].id);
        assert_eq!(
            plan.deferred,
            [(
                backups[0].id.clone(),
                "older than the newest 1 backups of its job, but cluster c1mnqjdo0aembuk4ljo0 \
                 is being restored from it"
                    .to_string()
            )]
        );
    }

    #[test]
    fn backups_still_being_made_or_deleted_are_left_alone() {
        let backups = vec![
            backup(1, BackupStatus::Creating),
            backup(2, BackupStatus::Deleting),
        ];
        let plan = plan_prune(&backups, 1, |_| None);
        assert!(plan.keep.is_empty() && plan.delete.is_empty());
    }
}
