//! Wire types of the resources, with the fields and status values of Kurrent Cloud's API.

use crate::catalogue::{InstanceType, ProjectionLevel, Topology};
use crate::ids::{BackupId, ClusterId, HistoryId, JobId, NetworkId, OrganizationId, ProjectId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An organization: the top of the tenancy tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    pub created: DateTime<Utc>,
}

/// A project groups networks, clusters, backups and jobs of one organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: ProjectId,
    pub organization_id: OrganizationId,
    pub name: String,
    pub created: DateTime<Utc>,
}

/// Lifecycle of a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkStatus {
    Provisioning,
    Available,
    Defunct,
    Deleting,
    Deleted,
}

impl NetworkStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkStatus::Provisioning => "provisioning",
            NetworkStatus::Available => "available",
            NetworkStatus::Defunct => "defunct",
            NetworkStatus::Deleting => "deleting",
            NetworkStatus::Deleted => "deleted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            NetworkStatus::Provisioning,
            NetworkStatus::Available,
            NetworkStatus::Defunct,
            NetworkStatus::Deleting,
            NetworkStatus::Deleted,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A network: where clusters live. A cluster inherits its network's provider and region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Network {
    pub id: NetworkId,
    pub project_id: ProjectId,
    pub provider: String,
    pub region: String,
    pub description: String,
    pub public_access: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_block: Option<String>,
    pub status: NetworkStatus,
    pub created: DateTime<Utc>,
}

/// Lifecycle of a cluster (`health` is reported separately).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClusterStatus {
    #[serde(rename = "provisioning")]
    Provisioning,
    #[serde(rename = "available")]
    Available,
    #[serde(rename = "defunct")]
    Defunct,
    #[serde(rename = "expanding disks")]
    ExpandingDisks,
    #[serde(rename = "resizing")]
    Resizing,
    #[serde(rename = "upgrading")]
    Upgrading,
    #[serde(rename = "restarting")]
    Restarting,
    #[serde(rename = "stopping")]
    Stopping,
    #[serde(rename = "starting")]
    Starting,
    #[serde(rename = "deleting")]
    Deleting,
    #[serde(rename = "deleted")]
    Deleted,
}

impl ClusterStatus {
    /// The wire spelling (`"expanding disks"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterStatus::Provisioning => "provisioning",
            ClusterStatus::Available => "available",
            ClusterStatus::Defunct => "defunct",
            ClusterStatus::ExpandingDisks => "expanding disks",
            ClusterStatus::Resizing => "resizing",
            ClusterStatus::Upgrading => "upgrading",
            ClusterStatus::Restarting => "restarting",
            ClusterStatus::Stopping => "stopping",
            ClusterStatus::Starting => "starting",
            ClusterStatus::Deleting => "deleting",
            ClusterStatus::Deleted => "deleted",
        }
    }
}

/// What the probes say about a cluster's nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterHealth {
    Ok,
    Degraded,
    Down,
    IssuesDetected,
    HealthReportingError,
}

impl ClusterHealth {
    /// The wire spelling (`"issues-detected"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterHealth::Ok => "ok",
            ClusterHealth::Degraded => "degraded",
            ClusterHealth::Down => "down",
            ClusterHealth::IssuesDetected => "issues-detected",
            ClusterHealth::HealthReportingError => "health-reporting-error",
        }
    }
}

/// Where a cluster's nodes answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterAddresses {
    pub tcp: Vec<String>,
    pub grpc: String,
    pub ui: String,
}

/// A cluster, as Kurrent Cloud's API describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    pub id: ClusterId,
    pub organization_id: OrganizationId,
    pub project_id: ProjectId,
    pub network_id: NetworkId,
    pub description: String,
    pub provider: String,
    pub region: String,
    pub topology: Topology,
    pub instance_type: InstanceType,
    pub disk_size_gb: u32,
    pub disk_type: String,
    pub server_version: String,
    pub server_version_tag: String,
    pub projection_level: ProjectionLevel,
    pub status: ClusterStatus,
    pub health: ClusterHealth,
    pub protected: bool,
    pub created: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_backup_id: Option<BackupId>,
    pub addresses: ClusterAddresses,
}

/// Lifecycle of a backup: `creating → available | defunct | cancelled`, then
/// `deleting → deleted`. `cancelled` is Cairn's own (someone stopped it); Kurrent Cloud's API
/// has no such status, so the REST API says `defunct` with `cancelled: true` (see its wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackupStatus {
    Creating,
    Available,
    Defunct,
    Cancelled,
    Deleting,
    Deleted,
}

impl BackupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupStatus::Creating => "creating",
            BackupStatus::Available => "available",
            BackupStatus::Defunct => "defunct",
            BackupStatus::Cancelled => "cancelled",
            BackupStatus::Deleting => "deleting",
            BackupStatus::Deleted => "deleted",
        }
    }
}

/// What a restore copies from the source cluster besides its disk and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterShape {
    pub topology: Topology,
    pub instance_type: InstanceType,
    pub projection_level: ProjectionLevel,
}

/// How far a snapshot being taken has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// A backup. `description` is the rendered label; `linkedResource` is the job that made it
/// (none for one-off backups). The fields after `linkedResource` are Cairn's additions: the
/// real facts of the snapshot, which a self-hosted operator needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backup {
    pub id: BackupId,
    pub project_id: ProjectId,
    pub description: String,
    pub source_cluster_id: ClusterId,
    pub source_cluster_description: String,
    pub provider: String,
    pub region: String,
    pub server_version: String,
    pub server_version_tag: String,
    /// The source cluster's disk size when the backup was taken: the smallest restore target.
    pub size_gb: u32,
    pub available_node_count: u8,
    pub status: BackupStatus,
    pub created: DateTime<Utc>,
    /// The job that made it; on the wire an empty string when none (real clients parse a string).
    #[serde(default, with = "empty_as_none")]
    pub linked_resource: Option<JobId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_stored: Option<u64>,
    /// Bytes this snapshot added to the repository (the rest was already there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_new: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
    /// Why a defunct backup failed, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// When the backup ended (available or defunct).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<DateTime<Utc>>,
    /// The source cluster's shape when the backup was taken, so a restore is offered the same;
    /// none for backups taken before Cairn recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_shape: Option<ClusterShape>,
    /// What the cluster held at backup time: its events and the position of the last one.
    /// A restore of the backup must hold exactly these (restore tests check it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contents: Option<ClusterContents>,
    /// The last check of every chunk and file hash of the backup, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    /// Who took it: the email of the person (signed in, or behind the API token) for a one-off,
    /// `job <description>` for a job's; none for backups taken before Cairn recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// What a cluster's log holds: how many events, and where the last one ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterContents {
    pub event_count: u64,
    pub last_position: u64,
}

/// How a backup's verification went: every chunk read and every hash checked, or the damage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub at: DateTime<Utc>,
    pub duration_ms: u64,
    /// `true` when every chunk and file matched its hash.
    pub ok: bool,
    /// What was checked ("6 files, 12 MiB"), or what is damaged.
    pub detail: String,
}

/// Lifecycle of a scheduled job. `paused` is Cairn's addition; resuming never fires a missed run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Running,
    Paused,
    Deleted,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Paused => "paused",
            JobStatus::Deleted => "deleted",
        }
    }
}

/// What a job does on each run. A restore test uses only the cluster (its label template is
/// empty and it keeps no backups).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledBackupData {
    pub cluster_id: ClusterId,
    /// The label template of the backups it makes.
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub max_backup_count: u32,
}

/// The kinds of job. Kurrent Cloud has one; Cairn adds restore tests, which the API's
/// Kurrent-compatible job list leaves out (strict clients know only `ScheduledBackup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobType {
    ScheduledBackup,
    /// Restores the cluster's newest available backup into a temporary cluster and checks
    /// that it holds exactly what the backup recorded.
    ScheduledRestoreTest,
}

impl JobType {
    pub fn as_str(self) -> &'static str {
        match self {
            JobType::ScheduledBackup => "ScheduledBackup",
            JobType::ScheduledRestoreTest => "ScheduledRestoreTest",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: JobId,
    pub organization_id: OrganizationId,
    pub project_id: ProjectId,
    pub description: String,
    /// Five-field cron, UTC.
    pub schedule: String,
    pub status: JobStatus,
    #[serde(rename = "type")]
    pub job_type: JobType,
    pub data: ScheduledBackupData,
    pub created: DateTime<Utc>,
}

/// Outcome of one run of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryStatus {
    Started,
    Succeeded,
    Failed,
}

/// One run of a job (scheduled or run-now), including runs that failed at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryItem {
    pub id: HistoryId,
    pub job_id: JobId,
    pub organization_id: OrganizationId,
    pub project_id: ProjectId,
    pub status: HistoryStatus,
    /// A sentence: what happened, and why when it failed.
    pub details: String,
    /// The backup this run made, if it made one.
    #[serde(default, with = "empty_as_none")]
    pub linked_resource: Option<BackupId>,
    pub start_time: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<DateTime<Utc>>,
}

/// An optional id written as a string, empty when there is none; `null` is read as none too.
mod empty_as_none {
    use serde::de::IntoDeserializer;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(
        value: &Option<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => value.serialize(serializer),
            None => serializer.serialize_str(""),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) if text.is_empty() => Ok(None),
            Some(text) => T::deserialize(text.into_deserializer()).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_serializes_with_the_wire_field_names() {
        let network = Network {
            id: NetworkId::parse("c10dr5qrh41lbabqa2j0").unwrap(),
            project_id: ProjectId::parse("c10d0h2rh41lba1v92k0").unwrap(),
            provider: "local".into(),
            region: "local-1".into(),
            description: "local-1".into(),
            public_access: false,
            cidr_block: None,
            status: NetworkStatus::Available,
            created: "2021-03-26T09:37:17Z".parse().unwrap(),
        };
        let json = serde_json::to_value(&network).unwrap();
        assert_eq!(json["projectId"], "c10d0h2rh41lba1v92k0");
        assert_eq!(json["publicAccess"], false);
        assert_eq!(json["status"], "available");
        assert_eq!(json["created"], "2021-03-26T09:37:17Z");
        assert!(json.get("cidrBlock").is_none());
    }

    #[test]
    fn cluster_statuses_use_the_wire_spelling() {
        assert_eq!(
            serde_json::to_string(&ClusterStatus::ExpandingDisks).unwrap(),
            "\"expanding disks\""
        );
        for status in [ClusterStatus::ExpandingDisks, ClusterStatus::Provisioning] {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        let json = serde_json::to_string(&ClusterHealth::HealthReportingError).unwrap();
        assert_eq!(
            json,
            format!("\"{}\"", ClusterHealth::HealthReportingError.as_str())
        );
        assert_eq!(
            serde_json::to_string(&ClusterHealth::IssuesDetected).unwrap(),
            "\"issues-detected\""
        );
    }

    #[test]
    fn a_job_serializes_its_type_and_data_as_the_api_does() {
        let job = Job {
            id: JobId::parse("c1ev3l5o0aeu6ojco7b0").unwrap(),
            organization_id: OrganizationId::parse("c1ev3l5o0aeu6ojco7b0").unwrap(),
            project_id: ProjectId::parse("c1ev3l5o0aeu6ojco7b0").unwrap(),
            description: "My Hourly Backup".into(),
            schedule: "0 */1 * * *".into(),
            status: JobStatus::Running,
            job_type: JobType::ScheduledBackup,
            data: ScheduledBackupData {
                cluster_id: ClusterId::parse("c196ogto0aeqohe3omm0").unwrap(),
                description: "{cluster} Hourly Backup {datetime:RFC3339}".into(),
                max_backup_count: 2,
            },
            created: "2021-03-26T14:38:12Z".parse().unwrap(),
        };
        let json = serde_json::to_value(&job).unwrap();
        assert_eq!(json["type"], "ScheduledBackup");
        assert_eq!(json["status"], "running");
        assert_eq!(json["data"]["clusterId"], "c196ogto0aeqohe3omm0");
        assert_eq!(json["data"]["maxBackupCount"], 2);
    }

    #[test]
    fn a_one_off_backup_has_an_empty_linked_resource_on_the_wire_and_null_is_read_too() {
        let json = serde_json::json!({
            "id": "c1ev3l5o0aeu6ojco7b0", "projectId": "btfjev2rh41scaatc1k0",
            "description": "on demand backup", "sourceClusterId": "c1eut65o0aeu6ojco7a0",
            "sourceClusterDescription": "Demo-Backup", "provider": "aws", "region": "eu-central-1",
            "serverVersion": "24.10", "serverVersionTag": "24.10.1", "sizeGb": 8,
            "availableNodeCount": 3, "status": "available", "created": "2021-03-26T14:38:12Z",
            "linkedResource": null
        });
        let backup: Backup = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(backup.status, BackupStatus::Available);
        assert_eq!(backup.linked_resource, None);
        let mut written = json;
        written["linkedResource"] = "".into();
        assert_eq!(serde_json::to_value(&backup).unwrap(), written);
        let read_back: Backup = serde_json::from_value(written).unwrap();
        assert_eq!(read_back, backup);
    }

    #[test]
    fn network_statuses_parse_what_they_print() {
        for status in [NetworkStatus::Provisioning, NetworkStatus::Deleted] {
            assert_eq!(NetworkStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(NetworkStatus::parse("gone"), None);
    }
}

/// Where a region's backups are kept, as the console says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryFacts {
    pub region: String,
    /// `file:///…` or `s3://bucket/prefix at https://endpoint` (never credentials).
    pub location: String,
    pub encrypted: bool,
    /// The key's public fingerprint, when encrypted.
    pub key_fingerprint: Option<String>,
    /// Where the key file is on the server, when encrypted.
    pub key_file: Option<String>,
    /// Why the repository cannot be used now (unreachable storage, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}
