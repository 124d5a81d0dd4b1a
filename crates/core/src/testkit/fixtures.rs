//! Valid requests for tests to start from.

/// A valid create-cluster request in `network` ("orders", one node, C4, 16 GB, 24.10): tests
/// change what they are about with struct update syntax.
pub fn cluster_request(network: cairn_model::NetworkId) -> cairn_model::CreateClusterRequest {
    cairn_model::CreateClusterRequest {
        description: "orders".into(),
        network_id: network,
        topology: cairn_model::Topology::SingleNode,
        instance_type: cairn_model::InstanceType::C4,
        disk_size_gb: 16,
        disk_type: "local-ssd".into(),
        server_version: "24.10".into(),
        projection_level: cairn_model::ProjectionLevel::System,
        source_backup_id: None,
        source_backup_project_id: None,
        protected: false,
    }
}
