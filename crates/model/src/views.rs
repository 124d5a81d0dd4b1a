//! What the console's detail pages show in one answer: an entity with what belongs to it.
//! Computed by the core, rendered by the console (server and browser alike).

use crate::access::Role;
use crate::entities::{Backup, Cluster, HistoryItem, Job, Network, Organization, Project};
use crate::ids::{BackupId, ProjectId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One node of a cluster, as its last probe saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeState {
    /// 0 leads a three-node cluster.
    pub index: u8,
    pub address: String,
    /// `leader`, `follower` or `single`.
    pub role: String,
    /// Whether it answered and keeps up.
    pub healthy: bool,
    /// A sentence: its committed position, or what is wrong.
    pub detail: String,
}

/// A cluster's page: the cluster, its nodes, its backups (newest first), who holds its lock,
/// and the index the next backup's label will use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterOverview {
    pub cluster: Cluster,
    pub nodes: Vec<NodeState>,
    /// When supervision probed `nodes`; none before its first probe.
    #[serde(default)]
    pub nodes_probed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub backups: Vec<Backup>,
    /// "cluster … is locked by backup … (manual)", when locked.
    pub lock: Option<String>,
    pub next_backup_index: u64,
    /// The backup a restored cluster was made from, as far as the reader may see it.
    #[serde(default)]
    pub restored_from: Option<RestoredFrom>,
}

/// Where a restored cluster came from: its backup, and the backup's project (which may be
/// another project of the organization). The label and the project's name are there only
/// when the reader has a role in that project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoredFrom {
    pub backup_id: BackupId,
    /// The backup's label.
    pub label: Option<String>,
    pub project_id: Option<ProjectId>,
    pub project_name: Option<String>,
}

impl RestoredFrom {
    /// "restored from nightly in Default project", or as much of it as is known.
    pub fn sentence(&self) -> String {
        let what = self
            .label
            .clone()
            .unwrap_or_else(|| format!("backup {}", self.backup_id));
        match &self.project_name {
            Some(project) => format!("restored from {what} in {project}"),
            None => format!("restored from {what}"),
        }
    }
}

/// A project someone has a role in, with its organization: what the console's project
/// switcher lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectRole {
    pub organization: Organization,
    pub project: Project,
    pub role: Role,
}

/// What the restore form offers for one backup: the projects of the backup's organization
/// where the reader may create clusters, the one chosen (the backup's own unless another
/// was asked for), and the networks of the chosen one (a network belongs to a project).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreChoices {
    pub backup: Backup,
    /// The backup's project.
    pub source: Project,
    /// Where a cluster may be created, the source among them when allowed there.
    pub targets: Vec<Project>,
    /// The project the restore goes to.
    pub target: Project,
    /// The target's networks, every one (the form tells which fit the backup).
    pub networks: Vec<Network>,
}

/// A job as the jobs list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobOverview {
    pub job: Job,
    /// The source cluster's name (the job keeps working, and failing, if it is gone).
    pub cluster_description: Option<String>,
    /// When it runs next; none while paused or deleted.
    pub next_run: Option<DateTime<Utc>>,
    pub last_run: Option<HistoryItem>,
}

/// A job's page: its overview, its backups (newest first) and its runs (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobDetail {
    pub overview: JobOverview,
    pub backups: Vec<Backup>,
    pub history: Vec<HistoryItem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_cluster_names_its_backup_and_project_as_far_as_they_are_known() {
        let mut from = RestoredFrom {
            backup_id: BackupId::parse("c1ev3l5o0aeu6ojco7b0").unwrap(),
            label: Some("nightly".into()),
            project_id: Some(ProjectId::parse("c1ev3l5o0aeu6ojco7c0").unwrap()),
            project_name: Some("Billing".into()),
        };
        assert_eq!(from.sentence(), "restored from nightly in Billing");
        from.label = None;
        from.project_name = None;
        assert_eq!(from.sentence(), "restored from backup c1ev3l5o0aeu6ojco7b0");
    }
}
