//! The create-cluster request, and the rules a restore must pass (domain.md §6). Every
//! broken rule is reported at once, keyed by the request's wire field name, so a form can
//! show each one next to its input.

use crate::catalogue::{
    disk_type, disk_types, server_versions, InstanceType, ProjectionLevel, Topology,
};
use crate::entities::{Backup, BackupStatus, Network, NetworkStatus};
use crate::ids::{BackupId, NetworkId, ProjectId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Field name (as on the wire) → what is wrong with it.
pub type FieldErrors = BTreeMap<String, String>;

/// Longest cluster name the console accepts.
pub const MAX_DESCRIPTION_LEN: usize = 128;

/// Kurrent Cloud's create-cluster request; with `sourceBackupId` it is a restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateClusterRequest {
    pub description: String,
    pub network_id: NetworkId,
    pub topology: Topology,
    pub instance_type: InstanceType,
    pub disk_size_gb: u32,
    pub disk_type: String,
    pub server_version: String,
    pub projection_level: ProjectionLevel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_backup_id: Option<BackupId>,
    /// The backup's project, when it is not the project the cluster is created in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_backup_project_id: Option<ProjectId>,
    #[serde(default)]
    pub protected: bool,
}

/// Whether version `a` is newer than `b` ("25.0" is newer than "24.10").
pub fn is_newer(a: &str, b: &str) -> bool {
    version_key(a) > version_key(b)
}

/// Orders versions like "23.10" < "24.10" < "25.0" (numerically, part by part).
fn version_key(version: &str) -> Vec<u32> {
    version
        .split('.')
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

/// A cluster's name (its description), on create and on every rename: required, at most
/// [`MAX_DESCRIPTION_LEN`] characters once trimmed.
pub fn check_cluster_description(description: &str) -> Result<(), String> {
    let name = description.trim();
    if name.is_empty() {
        Err("a name is required".into())
    } else if name.chars().count() > MAX_DESCRIPTION_LEN {
        Err(format!(
            "a name has at most {MAX_DESCRIPTION_LEN} characters"
        ))
    } else {
        Ok(())
    }
}

/// Rules of any new cluster: name, network, disk, version. `network` is the request's
/// network as found in the target project (`None`: not found there).
pub fn check_cluster_request(
    request: &CreateClusterRequest,
    network: Option<&Network>,
) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let mut fail = |field: &str, message: String| {
        errors.entry(field.to_owned()).or_insert(message);
    };

    if let Err(message) = check_cluster_description(&request.description) {
        fail("description", message);
    }

    match network {
        None => fail(
            "networkId",
            format!(
                "network {} was not found in this project",
                request.network_id
            ),
        ),
        Some(n) if n.status != NetworkStatus::Available => fail(
            "networkId",
            format!("network {} is {}, not available", n.id, n.status.as_str()),
        ),
        Some(_) => {}
    }

    // The network's provider names the disk types; without a network (named above) the disk
    // cannot be judged.
    let provider = network.map(|n| n.provider.as_str());
    match provider.map(|provider| (provider, disk_type(provider, &request.disk_type))) {
        None => {}
        Some((provider, None)) => {
            let names: Vec<_> = disk_types(provider).into_iter().map(|d| d.name).collect();
            fail(
                "diskType",
                format!(
                    "unknown disk type '{}': use {}",
                    request.disk_type,
                    names.join(", ")
                ),
            )
        }
        Some((_, Some(d)))
            if request.disk_size_gb < d.min_size_gb || request.disk_size_gb > d.max_size_gb =>
        {
            fail(
                "diskSizeGb",
                format!(
                    "a {} disk is {} to {} GB",
                    d.name, d.min_size_gb, d.max_size_gb
                ),
            )
        }
        Some(_) => {}
    }

    let versions = server_versions();
    if !versions.iter().any(|v| v.version == request.server_version) {
        let offered: Vec<_> = versions.iter().map(|v| v.version.as_str()).collect();
        fail(
            "serverVersion",
            format!(
                "unknown server version '{}': use {}",
                request.server_version,
                offered.join(", ")
            ),
        );
    }
    errors
}

/// The restore rules on top of [`check_cluster_request`]. `backup` is the backup named by
/// `sourceBackupId` as found in the caller's organization (`None`: not found there).
pub fn check_restore(
    request: &CreateClusterRequest,
    backup: Option<&Backup>,
    network: Option<&Network>,
) -> FieldErrors {
    let mut errors = check_cluster_request(request, network);
    let Some(backup_id) = &request.source_backup_id else {
        errors.insert(
            "sourceBackupId".into(),
            "a backup to restore is required".into(),
        );
        return errors;
    };
    let Some(backup) = backup else {
        errors.insert(
            "sourceBackupId".into(),
            format!("backup {backup_id} was not found"),
        );
        return errors;
    };
    let mut fail = |field: &str, message: String| {
        errors.entry(field.to_owned()).or_insert(message);
    };
    if backup.status != BackupStatus::Available {
        fail(
            "sourceBackupId",
            format!(
                "backup {backup_id} is {}: only an available backup can be restored",
                backup.status.as_str()
            ),
        );
    }
    if let Some(n) = network {
        if n.provider != backup.provider || n.region != backup.region {
            fail(
                "networkId",
                format!(
                    "network {} is in {}/{}, the backup in {}/{}: restore into a network of the same provider and region",
                    n.id, n.provider, n.region, backup.provider, backup.region
                ),
            );
        }
    }
    if request.disk_size_gb < backup.size_gb {
        fail(
            "diskSizeGb",
            format!(
                "must be at least {} GB, the disk size of the backup's source cluster",
                backup.size_gb
            ),
        );
    }
    if version_key(&request.server_version) < version_key(&backup.server_version) {
        fail(
            "serverVersion",
            format!(
                "cannot be older than the backup's server version {}",
                backup.server_version
            ),
        );
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::NetworkId;

    const BACKUP: &str = "c1ev3l5o0aeu6ojco7b0";
    const NETWORK: &str = "c10dr5qrh41lbabqa2j0";

    fn backup() -> Backup {
        serde_json::from_value(serde_json::json!({
            "id": BACKUP, "projectId": "c10d0h2rh41lba1v92k0", "description": "nightly",
            "sourceClusterId": "c1eut65o0aeu6ojco7a0", "sourceClusterDescription": "orders",
            "provider": "local", "region": "local-1", "serverVersion": "24.10",
            "serverVersionTag": "24.10.1", "sizeGb": 16, "availableNodeCount": 3,
            "status": "available", "created": "2026-11-24T12:00:00Z", "linkedResource": null
        }))
        .unwrap()
    }

    fn network(region: &str) -> Network {
        serde_json::from_value(serde_json::json!({
            "id": NETWORK, "projectId": "c10d0h2rh41lba1v92k0", "provider": "local",
            "region": region, "description": "net", "publicAccess": false,
            "status": "available", "created": "2026-11-24T12:00:00Z"
        }))
        .unwrap()
    }

    fn request() -> CreateClusterRequest {
        CreateClusterRequest {
            description: "restored".into(),
            network_id: NetworkId::parse(NETWORK).unwrap(),
            topology: Topology::SingleNode,
            instance_type: InstanceType::F1,
            disk_size_gb: 16,
            disk_type: "local-ssd".into(),
            server_version: "24.10".into(),
            projection_level: ProjectionLevel::Off,
            source_backup_id: Some(BackupId::parse(BACKUP).unwrap()),
            source_backup_project_id: None,
            protected: false,
        }
    }

    fn fields(errors: &FieldErrors) -> Vec<&str> {
        errors.keys().map(String::as_str).collect()
    }

    #[test]
    fn a_valid_restore_passes_even_to_another_topology_and_a_newer_version() {
        let mut request = request();
        request.topology = Topology::ThreeNodeMultiZone;
        request.instance_type = InstanceType::M16;
        request.server_version = "25.0".into();
        request.disk_size_gb = 64;
        assert_eq!(
            check_restore(&request, Some(&backup()), Some(&network("local-1"))),
            FieldErrors::new()
        );
    }

    #[test]
    fn each_rule_alone_names_its_field() {
        type Case = (
            &'static str,
            fn(&mut CreateClusterRequest, &mut Backup, &mut Network),
            &'static str,
            &'static str,
        );
        let table: [Case; 9] = [
            (
                "backup not available",
                |_, b, _| b.status = BackupStatus::Defunct,
                "sourceBackupId",
                "is defunct: only an available backup",
            ),
            (
                "backup being deleted",
                |_, b, _| b.status = BackupStatus::Deleting,
                "sourceBackupId",
                "is deleting",
            ),
            (
                "other region",
                |_, _, n| n.region = "local-2".into(),
                "networkId",
                "is in local/local-2, the backup in local/local-1",
            ),
            (
                "other provider",
                |_, _, n| n.provider = "aws".into(),
                "networkId",
                "restore into a network of the same provider and region",
            ),
            (
                "disk smaller than the backup",
                |r, _, _| r.disk_size_gb = 15,
                "diskSizeGb",
                "must be at least 16 GB",
            ),
            (
                "disk over the type's limit",
                |r, b, _| {
                    r.disk_size_gb = 5000;
                    b.size_gb = 8
                },
                "diskSizeGb",
                "a local-ssd disk is 8 to 4096 GB",
            ),
            (
                "older server version",
                |r, _, _| r.server_version = "23.10".into(),
                "serverVersion",
                "cannot be older than the backup's server version 24.10",
            ),
            (
                "unknown server version",
                |r, _, _| r.server_version = "99.1".into(),
                "serverVersion",
                "unknown server version '99.1': use 23.10, 24.10, 25.0",
            ),
            (
                "no name",
                |r, _, _| r.description = "  ".into(),
                "description",
                "a name is required",
            ),
        ];
        for (case, change, field, message) in table {
            let (mut request, mut backup, mut network) = (request(), backup(), network("local-1"));
            change(&mut request, &mut backup, &mut network);
            let errors = check_restore(&request, Some(&backup), Some(&network));
            assert_eq!(fields(&errors), [field], "{case}");
            assert!(errors[field].contains(message), "{case}: {}", errors[field]);
        }
    }

    #[test]
    fn every_broken_rule_is_reported_at_once() {
        let mut request = request();
        request.disk_size_gb = 8;
        request.server_version = "23.10".into();
        request.description = String::new();
        request.disk_type = "gp3".into();
        let errors = check_restore(&request, Some(&backup()), Some(&network("local-2")));
        assert_eq!(
            fields(&errors),
            [
                "description",
                "diskSizeGb",
                "diskType",
                "networkId",
                "serverVersion"
            ]
        );
    }

    #[test]
    fn a_missing_backup_or_network_is_named() {
        let errors = check_restore(&request(), None, None);
        assert_eq!(
            errors["sourceBackupId"],
            format!("backup {BACKUP} was not found")
        );
        assert_eq!(
            errors["networkId"],
            format!("network {NETWORK} was not found in this project")
        );
        let mut plain = request();
        plain.source_backup_id = None;
        let errors = check_restore(&plain, None, Some(&network("local-1")));
        assert_eq!(fields(&errors), ["sourceBackupId"]);
    }

    #[test]
    fn versions_compare_by_number_not_by_text() {
        assert!(version_key("25.0") > version_key("24.10"));
        assert!(version_key("24.10") > version_key("24.2"));
    }
}
