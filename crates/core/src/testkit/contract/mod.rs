//! One contract for every [`Store`]: what each must do, as public async functions, so every
//! adapter runs the same checks. `cairn-store`'s tests run each function against SQLite (a file
//! in a fresh temporary directory) and PostgreSQL (a fresh database); this crate's own tests run
//! them against the [`InMemoryStore`](crate::testkit::InMemoryStore).
//!
//! Each function takes the [`Database`] it runs on and opens it as often as it needs: two
//! instances of Cairn, or one restarted, are two stores over the same data.

mod access;
mod backups;
mod clusters;
mod jobs;
mod outbox;
mod tenancy;

pub use access::*;
pub use backups::*;
pub use clusters::*;
pub use jobs::*;
pub use outbox::*;
pub use tenancy::*;

use crate::testkit::{FakeEngine, ManualClock};
use crate::{Scope, Services, SiteConfig, Store};
use async_trait::async_trait;
use cairn_model::{
    Cluster, CreateClusterRequest, CreateJobRequest, InstanceType, ProjectionLevel,
    ScheduledBackupData, Topology,
};
use std::sync::Arc;

/// A database that exists for one test. Each `open` is another store over the same data, as
/// another process (or the same one restarted) would open it.
#[async_trait]
pub trait Database: Send + Sync {
    async fn open(&self) -> Arc<dyn Store>;
}

fn services(store: Arc<dyn Store>, site: SiteConfig) -> Services {
    Services::new(
        store,
        Arc::new(ManualClock::at("2026-11-24T12:00:00Z")),
        site,
    )
}

/// Services with a fake engine over the database, as one Cairn instance would have them.
async fn instance(db: &dyn Database, engine: &Arc<FakeEngine>) -> (Services, Scope) {
    let services = Services::builder(
        db.open().await,
        Arc::new(ManualClock::at("2025-01-23T18:12:04Z")),
        SiteConfig::default(),
    )
    .engine(engine.clone())
    .build();
    let scope = Scope::trusted(services.start().await.unwrap());
    (services, scope)
}

async fn available_cluster(services: &Services, scope: &Scope) -> Cluster {
    let network = services.list_networks(scope).await.unwrap().remove(0);
    let request = CreateClusterRequest {
        description: "orders".into(),
        network_id: network.id,
        topology: Topology::ThreeNodeMultiZone,
        instance_type: InstanceType::M8,
        disk_size_gb: 24,
        disk_type: "local-ssd".into(),
        server_version: "24.10".into(),
        projection_level: ProjectionLevel::User,
        source_backup_id: None,
        source_backup_project_id: None,
        protected: true,
    };
    let cluster = services.create_cluster(scope, &request).await.unwrap();
    services.settle().await;
    services.get_cluster(scope, &cluster.id).await.unwrap()
}

async fn instance_on_clock(
    db: &dyn Database,
    engine: &Arc<FakeEngine>,
    clock: &Arc<ManualClock>,
) -> (Services, Scope) {
    let services = Services::builder(db.open().await, clock.clone(), SiteConfig::default())
        .engine(engine.clone())
        .build();
    let scope = Scope::trusted(services.start().await.unwrap());
    (services, scope)
}

async fn hourly_job(services: &Services, scope: &Scope, cluster: &Cluster) -> cairn_model::Job {
    let request = CreateJobRequest {
        description: "hourly".into(),
        schedule: "0 * * * *".into(),
        data: ScheduledBackupData {
            cluster_id: cluster.id.clone(),
            description: "{cluster} #{index}".into(),
            max_backup_count: 3,
        },
    };
    services.create_job(scope, &request).await.unwrap()
}
