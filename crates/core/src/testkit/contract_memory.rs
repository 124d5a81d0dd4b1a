//! The store contract ([`super::contract`]) over the in-memory store, so the double the core's
//! tests stand on does what the SQL stores do.

use super::contract::{self, Database};
use super::InMemoryStore;
use crate::Store;
use async_trait::async_trait;
use std::sync::Arc;

/// One in-memory store: opening it again hands out the same store, as a database outlives the
/// processes that open it.
#[derive(Default)]
struct Memory(Arc<InMemoryStore>);

#[async_trait]
impl Database for Memory {
    async fn open(&self) -> Arc<dyn Store> {
        self.0.clone()
    }
}

macro_rules! on_memory {
    ($($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                contract::$test(&Memory::default()).await;
            }
        )*
    };
}

on_memory!(
    first_start_seeds_networks_that_read_back_exactly,
    a_restart_on_the_same_database_seeds_nothing_more,
    a_region_added_later_gets_its_network_in_the_same_project,
    resources_of_another_project_are_not_found,
    a_cluster_and_its_backup_read_back_exactly_after_a_restart,
    of_200_concurrent_backups_from_two_instances_exactly_one_is_accepted,
    after_a_crash_creating_backups_are_defunct_and_unlocked,
    a_job_its_history_and_its_pruned_backups_read_back_after_a_restart,
    each_due_run_fires_once_across_instances_and_missed_ones_are_not_caught_up,
    networks_and_projects_are_created_and_an_unused_network_deleted,
    organizations_and_projects_are_deleted_once_unused,
    instances_silent_for_a_day_are_forgotten,
    users_tokens_and_roles_read_back_and_only_one_first_admin_wins,
    a_password_change_ends_the_other_sessions_and_an_expired_api_token_is_refused,
    the_outbox_claims_each_due_delivery_once_and_one_issue_stays_open_per_condition,
    a_patch_writes_only_its_fields_and_a_verification_survives_later_updates,
    history_reads_are_bounded_indexed_and_pruned_keeping_each_jobs_latest,
    a_run_ends_once_and_a_late_end_does_not_overwrite_the_first,
    monitoring_reads_each_clusters_newest_success_and_the_pending_deliveries,
);
