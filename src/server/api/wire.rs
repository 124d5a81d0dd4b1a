//! Answers shaped as real clients parse them. Where `esc` requires a field our model does not
//! keep, it is derived here (and said why), so the model stays what the console needs.

use cairn_model::{
    disk_type, server_versions, Backup, BackupStatus, Cluster, ClusterStatus, Network, Organization,
};
use serde_json::{json, Value};

/// `provisioningEnabled` is required by `esc`: every organization here can provision.
pub fn organization(organization: &Organization) -> Value {
    let mut value = json!(organization);
    value["provisioningEnabled"] = json!(true);
    value
}

/// `esc`'s table output unwraps `cidrBlock`; the embedded engine's nodes listen on loopback,
/// which is the network's real address range when none was given.
pub fn network(network: &Network) -> Value {
    let mut value = json!(network);
    if network.cidr_block.is_none() {
        value["cidrBlock"] = json!("127.0.0.0/8");
    }
    value
}

/// A backup as Kurrent Cloud's clients read it. Their status enum has no `cancelled` (esc
/// rejects an unknown value), so a cancelled backup says `defunct` — it holds no usable data,
/// like one — with `cancelled: true`, and `failureReason` naming who cancelled it.
pub fn backup(backup: &Backup) -> Value {
    let mut value = json!(backup);
    let cancelled = backup.status == BackupStatus::Cancelled;
    if cancelled {
        value["status"] = json!(BackupStatus::Defunct);
    }
    value["cancelled"] = json!(cancelled);
    value
}

/// [`backup`] for lists, written straight from the model rather than through a `Value` tree
/// (a list of many backups is the API's hottest answer); only a cancelled one is rewritten.
#[derive(serde::Serialize)]
#[serde(untagged)]
pub enum ListedBackup<'a> {
    AsIs {
        #[serde(flatten)]
        backup: &'a Backup,
        cancelled: bool,
    },
    Rewritten(Value),
}

pub fn listed_backup(listed: &Backup) -> ListedBackup<'_> {
    if listed.status == BackupStatus::Cancelled {
        ListedBackup::Rewritten(backup(listed))
    } else {
        ListedBackup::AsIs {
            backup: listed,
            cancelled: false,
        }
    }
}

/// Adds what `esc` requires: whether the disk can grow now, whether a newer patch of the
/// cluster's version exists, that authentication is the cluster's own, and `publicAccess`:
/// false, since the embedded engine's nodes listen on this machine's loopback only.
pub fn cluster(cluster: &Cluster) -> Value {
    let max_disk =
        disk_type(&cluster.provider, &cluster.disk_type).map_or(u32::MAX, |d| d.max_size_gb);
    let patch_available = server_versions()
        .iter()
        .any(|v| v.version == cluster.server_version && v.tag != cluster.server_version_tag);
    let mut value = json!(cluster);
    value["canExpandDisk"] =
        json!(cluster.status == ClusterStatus::Available && cluster.disk_size_gb < max_disk);
    value["patchAvailable"] = json!(patch_available);
    value["cloudIntegratedAuthentication"] = json!(false);
    value["publicAccess"] = json!(false);
    value
}
