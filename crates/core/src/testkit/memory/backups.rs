//! Backups, in memory.

use super::InMemoryStore;
use crate::error::Result;
use crate::ports::BackupStore;
use async_trait::async_trait;
use cairn_model::{Backup, BackupId, BackupStatus, ClusterId, JobId, Page, PageRequest, ProjectId};
use std::collections::HashMap;

#[async_trait]
impl BackupStore for InMemoryStore {
    async fn last_backup_successes(&self) -> Result<Vec<crate::ports::BackupSuccess>> {
        let state = self.state.lock().unwrap();
        let mut last: HashMap<ClusterId, &Backup> = HashMap::new();
        for backup in &state.backups.rows {
            let succeeded = matches!(
                backup.status,
                BackupStatus::Available | BackupStatus::Deleting | BackupStatus::Deleted
            ) && backup.failure_reason.is_none();
            if succeeded {
                let entry = last
                    .entry(backup.source_cluster_id.clone())
                    .or_insert(backup);
                if (backup.created, &backup.id) > (entry.created, &entry.id) {
                    *entry = backup;
                }
            }
        }
        Ok(last
            .into_values()
            .map(|b| crate::ports::BackupSuccess {
                cluster_id: b.source_cluster_id.clone(),
                project_id: b.project_id.clone(),
                created: b.created,
                finished: b.finished,
                bytes_stored: b.bytes_stored,
            })
            .collect())
    }

    async fn count_backups_of_cluster(&self, cluster: &ClusterId) -> Result<u64> {
        let state = self.state.lock().unwrap();
        Ok(state.backups_by_cluster.get(cluster).copied().unwrap_or(0))
    }

    async fn insert_backup(&self, backup: &Backup) -> Result<()> {
        {
            let mut state = self.state.lock().unwrap();
            let i = state.backups.insert(backup.id.clone(), backup.clone());
            *state
                .backups_by_cluster
                .entry(backup.source_cluster_id.clone())
                .or_default() += 1;
            if let Some(job) = &backup.linked_resource {
                state.backups_by_job.entry(job.clone()).or_default().push(i);
            }
        }
        self.insert_backup_pause.here().await;
        Ok(())
    }

    async fn backup(&self, project: &ProjectId, id: &BackupId) -> Result<Option<Backup>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .backups
            .get(id)
            .filter(|b| &b.project_id == project)
            .cloned())
    }

    async fn backups(&self, project: &ProjectId) -> Result<Vec<Backup>> {
        let read: Vec<Backup> = self
            .state
            .lock()
            .unwrap()
            .backups
            .rows
            .iter()
            .filter(|b| &b.project_id == project && b.status != BackupStatus::Deleted)
            .cloned()
            .collect();
        self.backups_pause.here().await;
        Ok(read)
    }

    async fn backups_page(
        &self,
        project: &ProjectId,
        request: &PageRequest,
    ) -> Result<Page<Backup>> {
        let f = &request.filters;
        let state = self.state.lock().unwrap();
        let rows: Vec<Backup> = state
            .backups
            .rows
            .iter()
            .filter(|b| &b.project_id == project && b.status != BackupStatus::Deleted)
            .filter(|b| f.status.as_deref().is_none_or(|s| b.status.as_str() == s))
            .filter(|b| {
                f.cluster_id
                    .as_deref()
                    .is_none_or(|c| b.source_cluster_id.as_str() == c)
            })
            .filter(|b| {
                f.job_id
                    .as_deref()
                    .is_none_or(|j| b.linked_resource.as_ref().is_some_and(|l| l.as_str() == j))
            })
            .filter(|b| {
                f.text_matches(&[
                    &b.description,
                    b.id.as_str(),
                    b.source_cluster_id.as_str(),
                    &b.source_cluster_description,
                    b.linked_resource.as_ref().map_or("", |j| j.as_str()),
                ])
            })
            .cloned()
            .collect();
        Ok(Page::select(rows, request, |b| {
            (b.created, b.id.to_string())
        }))
    }

    async fn job_backup_counts(
        &self,
        project: &ProjectId,
    ) -> Result<Vec<crate::ports::JobBackupCount>> {
        let state = self.state.lock().unwrap();
        let mut counts: HashMap<JobId, crate::ports::JobBackupCount> = HashMap::new();
        let live = state
            .backups
            .rows
            .iter()
            .filter(|b| &b.project_id == project && b.status != BackupStatus::Deleted);
        for backup in live {
            let Some(job) = &backup.linked_resource else {
                continue;
            };
            let count = counts
                .entry(job.clone())
                .or_insert_with(|| crate::ports::JobBackupCount {
                    job_id: job.clone(),
                    count: 0,
                    available: 0,
                    newest: backup.created,
                });
            count.count += 1;
            count.available += u64::from(backup.status == BackupStatus::Available);
            count.newest = count.newest.max(backup.created);
        }
        Ok(counts.into_values().collect())
    }

    async fn backups_with_status(&self, status: BackupStatus) -> Result<Vec<Backup>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .backups
            .rows
            .iter()
            .filter(|b| b.status == status)
            .cloned()
            .collect())
    }

    async fn update_backup(&self, backup: &Backup) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        let mut backup = backup.clone();
        // As the SQL stores: the verification is written on its own, never with the rest.
        backup.verification = state
            .backups
            .get(&backup.id)
            .and_then(|b| b.verification.clone());
        let id = backup.id.to_string();
        state
            .backups
            .replace(&backup.id.clone(), backup, "backup", id)
    }

    async fn set_verification(
        &self,
        id: &BackupId,
        verification: &cairn_model::Verification,
    ) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        Ok(match state.backups.get_mut(id) {
            Some(backup) => {
                backup.verification = Some(verification.clone());
                true
            }
            None => false,
        })
    }

    async fn job_backups(&self, job: &JobId) -> Result<Vec<Backup>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .backups_by_job
            .get(job)
            .into_iter()
            .flatten()
            .map(|&i| &state.backups.rows[i])
            .filter(|b| b.status != BackupStatus::Deleted)
            .cloned()
            .collect())
    }
}
