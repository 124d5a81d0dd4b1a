//! Answers shaped as real clients parse them. Where `esc` requires a field our model does not
//! keep, it is derived here (and said why), so the model stays what the console needs.

use cairn_model::{disk_types, server_versions, Cluster, ClusterStatus, Network, Organization};
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

/// Adds what `esc` requires: whether the disk can grow now, whether a newer patch of the
/// cluster's version exists, and that authentication is the cluster's own.
pub fn cluster(cluster: &Cluster) -> Value {
    let max_disk = disk_types()
        .into_iter()
        .find(|d| d.name == cluster.disk_type)
        .map_or(u32::MAX, |d| d.max_size_gb);
    let patch_available = server_versions()
        .iter()
        .any(|v| v.version == cluster.server_version && v.tag != cluster.server_version_tag);
    let mut value = json!(cluster);
    value["canExpandDisk"] =
        json!(cluster.status == ClusterStatus::Available && cluster.disk_size_gb < max_disk);
    value["patchAvailable"] = json!(patch_available);
    value["cloudIntegratedAuthentication"] = json!(false);
    value
}
