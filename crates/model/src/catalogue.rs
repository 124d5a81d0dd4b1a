//! The embedded provider's catalogue (domain.md, "the embedded provider's catalogue"): data,
//! not code, so a site can extend it by configuration.

use serde::{Deserialize, Serialize};

/// The provider name of clusters that run on the machine Cairn runs on.
pub const LOCAL_PROVIDER: &str = "local";
/// Regions of the embedded provider when none are configured.
pub const DEFAULT_REGIONS: [&str; 2] = ["local-1", "local-2"];

/// Cluster topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topology {
    SingleNode,
    ThreeNodeMultiZone,
}

impl Topology {
    pub fn node_count(self) -> u8 {
        match self {
            Topology::SingleNode => 1,
            Topology::ThreeNodeMultiZone => 3,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Topology::SingleNode => "Single node",
            Topology::ThreeNodeMultiZone => "Three nodes, multi-zone",
        }
    }
}

/// Instance sizes; responses use lower case (`"f1"`), requests may use upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstanceType {
    #[serde(alias = "F1")]
    F1,
    #[serde(alias = "C4")]
    C4,
    #[serde(alias = "M8")]
    M8,
    #[serde(alias = "M16")]
    M16,
    #[serde(alias = "M32")]
    M32,
    #[serde(alias = "M64")]
    M64,
    #[serde(alias = "M128")]
    M128,
}

impl InstanceType {
    pub const ALL: [InstanceType; 7] = [
        InstanceType::F1,
        InstanceType::C4,
        InstanceType::M8,
        InstanceType::M16,
        InstanceType::M32,
        InstanceType::M64,
        InstanceType::M128,
    ];
    /// (vCPUs, memory in GB): the resource hints a node gets.
    pub fn resources(self) -> (u8, u16) {
        match self {
            InstanceType::F1 => (2, 2),
            InstanceType::C4 => (2, 4),
            InstanceType::M8 => (2, 8),
            InstanceType::M16 => (4, 16),
            InstanceType::M32 => (8, 32),
            InstanceType::M64 => (16, 64),
            InstanceType::M128 => (32, 128),
        }
    }
    /// Upper-case name as the console shows it ("F1").
    pub fn name(self) -> &'static str {
        match self {
            InstanceType::F1 => "F1",
            InstanceType::C4 => "C4",
            InstanceType::M8 => "M8",
            InstanceType::M16 => "M16",
            InstanceType::M32 => "M32",
            InstanceType::M64 => "M64",
            InstanceType::M128 => "M128",
        }
    }
}

/// Which projections the server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectionLevel {
    Off,
    System,
    User,
}

impl ProjectionLevel {
    pub fn label(self) -> &'static str {
        match self {
            ProjectionLevel::Off => "Off",
            ProjectionLevel::System => "System Projections Only",
            ProjectionLevel::User => "System and User Projections",
        }
    }
}

/// A server version offered by the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerVersion {
    pub version: String,
    pub tag: String,
    pub lts: bool,
    pub recommended: bool,
}

/// The server versions of the embedded provider.
pub fn server_versions() -> Vec<ServerVersion> {
    let v = |version: &str, tag: &str, lts, recommended| ServerVersion {
        version: version.into(),
        tag: tag.into(),
        lts,
        recommended,
    };
    vec![
        v("23.10", "23.10.3", true, false),
        v("24.10", "24.10.1", true, true),
        v("25.0", "25.0.1", false, false),
    ]
}

/// A disk type and the sizes it allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskType {
    pub name: String,
    pub min_size_gb: u32,
    pub max_size_gb: u32,
}

/// The disk types a site offers, by its provider label, the default first. A site labelled
/// like a cloud (`aws`, `gcp`, `azure`, for `esc`'s sake) offers that cloud's names, so the
/// product page's `--disk-type gp3` works on an `aws` site; every site keeps `local-ssd`, which
/// is what the nodes really run on (and what clusters made before the label said). The name is
/// what the cluster is said to have.
pub fn disk_types(provider: &str) -> Vec<DiskType> {
    let disk = |name: &str, min_size_gb, max_size_gb| DiskType {
        name: name.into(),
        min_size_gb,
        max_size_gb,
    };
    let mut offered = match provider {
        "aws" => vec![disk("gp3", 8, 16384), disk("gp2", 8, 16384)],
        "gcp" => vec![disk("ssd", 10, 65536)],
        "azure" => vec![disk("premium-ssd-lrs", 8, 32767)],
        _ => Vec::new(),
    };
    offered.push(disk("local-ssd", 8, 4096));
    offered
}

/// The provider's disk type called `name`, in any case (`GP3` is `gp3`).
pub fn disk_type(provider: &str, name: &str) -> Option<DiskType> {
    disk_types(provider)
        .into_iter()
        .find(|d| d.name.eq_ignore_ascii_case(name.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_types_accept_upper_case_and_answer_in_lower_case() {
        let parsed: InstanceType = serde_json::from_str("\"F1\"").unwrap();
        assert_eq!(parsed, InstanceType::F1);
        assert_eq!(
            serde_json::to_string(&InstanceType::M128).unwrap(),
            "\"m128\""
        );
    }

    #[test]
    fn topologies_use_the_wire_names() {
        assert_eq!(
            serde_json::to_string(&Topology::ThreeNodeMultiZone).unwrap(),
            "\"three-node-multi-zone\""
        );
    }

    #[test]
    fn a_site_labelled_aws_offers_gp3_and_the_embedded_one_local_ssd() {
        assert_eq!(disk_type("aws", "GP3").map(|d| d.name), Some("gp3".into()));
        assert_eq!(
            disk_types("aws")[0].name,
            "gp3",
            "the default on an aws site"
        );
        assert!(
            disk_type("aws", "local-ssd").is_some(),
            "what clusters had before"
        );
        assert_eq!(
            disk_type(LOCAL_PROVIDER, "local-ssd").map(|d| d.max_size_gb),
            Some(4096)
        );
        assert!(disk_type(LOCAL_PROVIDER, "gp3").is_none());
    }

    #[test]
    fn exactly_one_server_version_is_recommended() {
        let recommended: Vec<_> = server_versions()
            .into_iter()
            .filter(|v| v.recommended)
            .collect();
        assert_eq!(recommended.len(), 1);
        assert_eq!(recommended[0].version, "24.10");
    }
}
