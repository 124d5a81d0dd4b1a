//! Valid requests for tests to start from, and a started instance to run them against.

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

// ---- a world to test flows in ----

use crate::testkit::{FakeEngine, InMemoryStore, ManualClock, RecordingNotifier};
use crate::{Scope, Services, SiteConfig};
use cairn_model::{Backup, Cluster, ClusterStatus, CreateClusterRequest, Topology};
use std::sync::Arc;
use std::time::Duration;

/// One Cairn instance over the in-memory store, the fake engine, a recording notifier and a
/// manual clock, started (seeded) and acting as Cairn itself in the default project.
pub struct Fixture {
    pub services: Services,
    pub store: Arc<InMemoryStore>,
    pub engine: Arc<FakeEngine>,
    pub notifier: Arc<RecordingNotifier>,
    pub scope: Scope,
    pub clock: Arc<ManualClock>,
}

/// A fixture whose snapshots (and restore tests) are given up on after `deadline`.
pub async fn fixture_with(deadline: Duration) -> Fixture {
    let store = Arc::new(InMemoryStore::default());
    let engine = Arc::new(FakeEngine::default());
    let notifier = Arc::new(RecordingNotifier::default());
    let clock = Arc::new(ManualClock::at("2025-01-23T18:12:04Z"));
    let services = Services::builder(store.clone(), clock.clone(), SiteConfig::default())
        .engine(engine.clone())
        .notifier(notifier.clone())
        .snapshot_deadline(deadline)
        .build();
    let scope = crate::Scope::trusted(services.start().await.unwrap());
    Fixture {
        services,
        store,
        engine,
        notifier,
        scope,
        clock,
    }
}

pub async fn fixture() -> Fixture {
    fixture_with(Duration::from_secs(3600)).await
}

impl Fixture {
    pub async fn request(&self, region: &str) -> CreateClusterRequest {
        let network = self
            .services
            .list_networks(&self.scope)
            .await
            .unwrap()
            .into_iter()
            .find(|n| n.region == region)
            .unwrap();
        CreateClusterRequest {
            topology: Topology::ThreeNodeMultiZone,
            ..cluster_request(network.id)
        }
    }

    /// Another Cairn instance over the same store and engine, reading `clock` (the fixture's
    /// own for a live peer, a later one for a restart).
    pub fn another_instance(&self, clock: Arc<ManualClock>) -> Services {
        Services::builder(self.store.clone(), clock, SiteConfig::default())
            .engine(self.engine.clone())
            .build()
    }

    pub async fn available_cluster(&self) -> Cluster {
        let cluster = self
            .services
            .create_cluster(&self.scope, &self.request("local-1").await)
            .await
            .unwrap();
        self.services.settle().await;
        let cluster = self
            .services
            .get_cluster(&self.scope, &cluster.id)
            .await
            .unwrap();
        assert_eq!(cluster.status, ClusterStatus::Available);
        cluster
    }

    pub async fn backup(&self, backup: &Backup) -> Backup {
        self.services
            .get_backup(&self.scope, &backup.id)
            .await
            .unwrap()
    }
}
