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

/// The disk types of the embedded provider.
pub fn disk_types() -> Vec<DiskType> {
    vec![DiskType {
        name: "local-ssd".into(),
        min_size_gb: 8,
        max_size_gb: 4096,
    }]
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
    fn exactly_one_server_version_is_recommended() {
        let recommended: Vec<_> = server_versions()
            .into_iter()
            .filter(|v| v.recommended)
            .collect();
        assert_eq!(recommended.len(), 1);
        assert_eq!(recommended[0].version, "24.10");
    }
}
