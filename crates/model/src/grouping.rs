//! The backups list as the console shows it: each job's backups grouped in one row
//! ("<job> - 7 backups - 7 available"), then the one-off backups. Pure, so the browser can
//! regroup what it already has.

use crate::entities::{Backup, BackupStatus, Job, JobStatus};
use crate::ids::JobId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobBackups {
    pub job_id: JobId,
    /// The job's description; kept for jobs that were deleted (their backups stay).
    pub job_description: String,
    pub job_deleted: bool,
    /// Newest first.
    pub backups: Vec<Backup>,
}

impl JobBackups {
    pub fn available(&self) -> usize {
        self.backups
            .iter()
            .filter(|b| b.status == BackupStatus::Available)
            .count()
    }

    /// "My Hourly Backup - 7 backups - 7 available".
    pub fn summary(&self) -> String {
        summary(&self.job_description, self.backups.len(), self.available())
    }
}

fn summary(job: &str, n: usize, available: usize) -> String {
    let plural = if n == 1 { "" } else { "s" };
    format!("{job} - {n} backup{plural} - {available} available")
}

/// A job's backups counted, without the backups: what the backups page's summary row of a
/// job says, however many the job made (its rows come a page at a time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobGroup {
    pub job_id: JobId,
    pub job_description: String,
    pub job_deleted: bool,
    pub count: usize,
    pub available: usize,
}

impl JobGroup {
    /// "My Hourly Backup - 7 backups - 7 available".
    pub fn summary(&self) -> String {
        summary(&self.job_description, self.count, self.available)
    }
}

/// Each job's backups counted, the job with the newest backup first; `jobs` as for
/// [`group_backups`]. Nothing is copied but the counts.
pub fn job_groups(backups: &[Backup], jobs: &[Job]) -> Vec<JobGroup> {
    let mut groups: Vec<(JobGroup, (chrono::DateTime<chrono::Utc>, &str))> = Vec::new();
    let mut at: std::collections::HashMap<&JobId, usize> = std::collections::HashMap::new();
    for backup in backups {
        let Some(job_id) = &backup.linked_resource else {
            continue;
        };
        let key = (backup.created, backup.id.as_str());
        let i = *at.entry(job_id).or_insert_with(|| {
            let job = jobs.iter().find(|j| &j.id == job_id);
            groups.push((
                JobGroup {
                    job_id: job_id.clone(),
                    job_description: job
                        .map_or_else(|| job_id.to_string(), |j| j.description.clone()),
                    job_deleted: job.is_some_and(|j| j.status == JobStatus::Deleted),
                    count: 0,
                    available: 0,
                },
                key,
            ));
            groups.len() - 1
        });
        let (group, newest) = &mut groups[i];
        group.count += 1;
        if backup.status == BackupStatus::Available {
            group.available += 1;
        }
        if key > *newest {
            *newest = key;
        }
    }
    groups.sort_by(|(_, a), (_, b)| b.cmp(a));
    groups.into_iter().map(|(group, _)| group).collect()
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupedBackups {
    /// Jobs with their backups, the job with the newest backup first.
    pub jobs: Vec<JobBackups>,
    /// Backups made on demand, newest first.
    pub one_off: Vec<Backup>,
}

/// Groups `backups` by the job that made them. `jobs` must hold every job named by a backup
/// (deleted ones included); a backup whose job is unknown is grouped under its job id.
pub fn group_backups(backups: &[Backup], jobs: &[Job]) -> GroupedBackups {
    let mut sorted: Vec<&Backup> = backups.iter().collect();
    sorted.sort_by(|a, b| (b.created, &b.id).cmp(&(a.created, &a.id)));
    let mut grouped = GroupedBackups::default();
    for backup in sorted {
        let Some(job_id) = &backup.linked_resource else {
            grouped.one_off.push(backup.clone());
            continue;
        };
        match grouped.jobs.iter_mut().find(|g| &g.job_id == job_id) {
            Some(group) => group.backups.push(backup.clone()),
            None => {
                let job = jobs.iter().find(|j| &j.id == job_id);
                grouped.jobs.push(JobBackups {
                    job_id: job_id.clone(),
                    job_description: job
                        .map_or_else(|| job_id.to_string(), |j| j.description.clone()),
                    job_deleted: job.is_some_and(|j| j.status == JobStatus::Deleted),
                    backups: vec![backup.clone()],
                });
            }
        }
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup(n: u32, job: Option<&str>, status: &str) -> Backup {
        let id = crate::ids::RawId::from_parts(1_700_000_000 + n, [0; 3], 0, n);
        serde_json::from_value(serde_json::json!({
            "id": id.encode(), "projectId": "c10d0h2rh41lba1v92k0", "description": format!("b{n}"),
            "sourceClusterId": "c1eut65o0aeu6ojco7a0", "sourceClusterDescription": "orders",
            "provider": "local", "region": "local-1", "serverVersion": "24.10",
            "serverVersionTag": "24.10.1", "sizeGb": 8, "availableNodeCount": 1,
            "status": status, "created": id.time(), "linkedResource": job
        }))
        .unwrap()
    }

    fn job(id: &str, description: &str, status: &str) -> Job {
        serde_json::from_value(serde_json::json!({
            "id": id, "organizationId": "c10d0h2rh41lba1v92k0", "projectId": "c10d0h2rh41lba1v92k0",
            "description": description, "schedule": "0 * * * *", "status": status,
            "type": "ScheduledBackup", "created": "2026-11-24T00:00:00Z",
            "data": {"clusterId": "c1eut65o0aeu6ojco7a0", "description": "x", "maxBackupCount": 4}
        }))
        .unwrap()
    }

    const HOURLY: &str = "c10dvoarh41lb9otkdrg";
    const WEEKLY: &str = "c10dr5qrh41lbabqa2j0";

    #[test]
    fn backups_of_each_job_share_a_row_and_one_offs_follow() {
        let backups = [
            backup(1, Some(HOURLY), "available"),
            backup(2, None, "available"),
            backup(3, Some(WEEKLY), "available"),
            backup(4, Some(HOURLY), "defunct"),
            backup(5, Some(HOURLY), "available"),
        ];
        let jobs = [
            job(HOURLY, "My Hourly Backup", "running"),
            job(WEEKLY, "Weekly", "deleted"),
        ];
        let grouped = group_backups(&backups, &jobs);
        assert_eq!(grouped.jobs.len(), 2);
        assert_eq!(
            grouped.jobs[0].summary(),
            "My Hourly Backup - 3 backups - 2 available"
        );
        let newest_first: Vec<_> = grouped.jobs[0]
            .backups
            .iter()
            .map(|b| b.description.as_str())
            .collect();
        assert_eq!(newest_first, ["b5", "b4", "b1"]);
        assert_eq!(grouped.jobs[1].summary(), "Weekly - 1 backup - 1 available");
        assert!(
            grouped.jobs[1].job_deleted,
            "a deleted job's backups stay under its name"
        );
        assert_eq!(grouped.one_off.len(), 1);
        assert_eq!(grouped.one_off[0].description, "b2");
    }

    #[test]
    fn a_jobs_group_counts_its_backups_and_says_what_its_full_group_says() {
        let backups = [
            backup(1, Some(HOURLY), "available"),
            backup(2, None, "available"),
            backup(3, Some(WEEKLY), "available"),
            backup(4, Some(HOURLY), "defunct"),
            backup(5, Some(HOURLY), "available"),
        ];
        let jobs = [
            job(HOURLY, "My Hourly Backup", "running"),
            job(WEEKLY, "Weekly", "deleted"),
        ];
        let counted = job_groups(&backups, &jobs);
        let full = group_backups(&backups, &jobs);
        let summaries: Vec<String> = counted.iter().map(JobGroup::summary).collect();
        let full_summaries: Vec<String> = full.jobs.iter().map(JobBackups::summary).collect();
        assert_eq!(summaries, full_summaries);
        assert!(counted[1].job_deleted);
    }
}
