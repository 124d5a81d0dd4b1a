//! One contract for every [`Store`]: what each must do, as public async functions, so every
//! adapter runs the same checks. `cairn-store`'s tests run each function against SQLite (a file
//! in a fresh temporary directory) and PostgreSQL (a fresh database); this crate's own tests run
//! them against the [`InMemoryStore`](crate::testkit::InMemoryStore).
//!
//! Each function takes the [`Database`] it runs on and opens it as often as it needs: two
//! instances of Cairn, or one restarted, are two stores over the same data.

mod access;
mod audit;
mod backups;
mod clusters;
mod jobs;
mod outbox;
mod paging;
mod tenancy;

pub use access::*;
pub use audit::*;
pub use backups::*;
pub use clusters::*;
pub use jobs::*;
pub use outbox::*;
pub use paging::*;
pub use tenancy::*;

/// Every contract test, as `#[tokio::test]`s over the database `$db` makes (an expression
/// giving `Option<impl Database>`; `None` skips, for a server the run does not have). Each
/// adapter's test file calls it once, so no adapter can run fewer of them.
#[macro_export]
macro_rules! store_contract {
    ($db:expr) => {
        $crate::store_contract!(@each $db;
            first_start_seeds_networks_that_read_back_exactly,
            a_restart_on_the_same_database_seeds_nothing_more,
            a_region_added_later_gets_its_network_in_the_same_project,
            resources_of_another_project_are_not_found,
            a_cluster_and_its_backup_read_back_exactly_after_a_restart,
            of_200_concurrent_backups_from_two_instances_exactly_one_is_accepted,
            after_a_crash_creating_backups_are_defunct_and_unlocked,
            a_job_its_history_and_its_pruned_backups_read_back_after_a_restart,
            an_edit_writes_a_jobs_settings_but_never_its_status_and_misses_a_deleted_job,
            each_due_run_fires_once_across_instances_and_missed_ones_are_not_caught_up,
            networks_and_projects_are_created_and_an_unused_network_deleted,
            organizations_and_projects_are_deleted_once_unused,
            instances_silent_for_a_day_are_forgotten,
            users_tokens_and_roles_read_back_and_only_one_first_admin_wins,
            of_many_racing_first_users_from_four_instances_exactly_one_is_inserted,
            a_password_change_ends_the_other_sessions_and_an_expired_api_token_is_refused,
            the_outbox_claims_each_due_delivery_once_and_one_issue_stays_open_per_condition,
            a_patch_writes_only_its_fields_and_a_verification_survives_later_updates,
            history_reads_are_bounded_indexed_and_pruned_keeping_each_jobs_latest,
            a_run_ends_once_and_a_late_end_does_not_overwrite_the_first,
            monitoring_reads_each_clusters_newest_success_and_the_pending_deliveries,
            audit_entries_read_back_newest_first_by_place_filtered_and_paged,
            pages_cover_every_backup_once_in_order_while_backups_are_added_between_reads,
            a_backup_page_token_outlives_its_row_and_pages_are_filtered_as_asked,
            pages_of_jobs_runs_and_events_cover_each_once_and_are_filtered_as_asked,
            a_page_token_that_is_not_one_or_of_the_other_order_is_refused_naming_it,
        );
    };
    (@each $db:expr; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                if let Some(db) = $db {
                    $crate::testkit::contract::$test(&db).await;
                }
            }
        )*
    };
}

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
