//! Wire types of the resources, with the fields and status values of Kurrent Cloud's API.

use crate::catalogue::{InstanceType, ProjectionLevel, Topology};
use crate::ids::{BackupId, ClusterId, NetworkId, OrganizationId, ProjectId};
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
        assert_eq!(
            serde_json::to_string(&ClusterHealth::IssuesDetected).unwrap(),
            "\"issues-detected\""
        );
    }

    #[test]
    fn network_statuses_parse_what_they_print() {
        for status in [NetworkStatus::Provisioning, NetworkStatus::Deleted] {
            assert_eq!(NetworkStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(NetworkStatus::parse("gone"), None);
    }
}
