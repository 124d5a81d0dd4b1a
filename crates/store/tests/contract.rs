//! One contract suite for every Store adapter ([`cairn_core::testkit::contract`]): each of its
//! tests runs here against SQLite (a file in a fresh temporary directory) and against PostgreSQL
//! (a fresh database on the server named by `CAIRN_TEST_POSTGRES_URL`, which `make test` starts
//! on loopback). The same functions run against the in-memory store in `cairn-core`'s tests.
//! What holds only for a SQL database (opening one by URL) is tested at the end of this file.

use async_trait::async_trait;
use cairn_core::testkit::contract::Database;
use cairn_core::Store;
use cairn_store::SqlStore;
use std::sync::Arc;

/// A database that exists for one test.
struct SqlDatabase {
    url: String,
    _dir: Option<tempfile::TempDir>,
}

#[async_trait]
impl Database for SqlDatabase {
    async fn open(&self) -> Arc<dyn Store> {
        Arc::new(SqlStore::open(&self.url).await.unwrap())
    }
}

async fn sqlite() -> SqlDatabase {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cairn.db").display());
    SqlDatabase {
        url,
        _dir: Some(dir),
    }
}

/// A fresh database on the test server, or `None` (with a note) when no server is configured
/// and the run does not require one. `make test` requires one.
async fn postgres() -> Option<SqlDatabase> {
    let Ok(admin_url) = std::env::var("CAIRN_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("CAIRN_REQUIRE_POSTGRES").is_err(),
            "CAIRN_REQUIRE_POSTGRES is set but CAIRN_TEST_POSTGRES_URL is not"
        );
        eprintln!("note: CAIRN_TEST_POSTGRES_URL unset; PostgreSQL half of the contract not run");
        return None;
    };
    let name = format!("cairn_test_{}", fastrand::u64(..));
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("a URL with a database name");
    Some(SqlDatabase {
        url: format!("{base}/{name}"),
        _dir: None,
    })
}

macro_rules! contract {
    ($($test:ident),* $(,)?) => {
        mod on_sqlite {
            use cairn_core::testkit::contract;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let db = super::sqlite().await;
                    contract::$test(&db).await;
                }
            )*
        }
        mod on_postgres {
            use cairn_core::testkit::contract;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if let Some(db) = super::postgres().await {
                        contract::$test(&db).await;
                    }
                }
            )*
        }
    };
}

contract!(
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

#[tokio::test]
async fn an_unsupported_database_url_is_refused_with_its_name() {
    let error = SqlStore::open("mysql://db/cairn").await.err().unwrap();
    assert_eq!(
        error.to_string(),
        "database URL 'mysql://db/cairn' is not supported: use sqlite://PATH or postgres://…"
    );
}

#[tokio::test]
async fn an_unreachable_sqlite_path_names_the_database_in_the_error() {
    let error = SqlStore::open("sqlite:///nonexistent-dir/deeper/cairn.db")
        .await
        .err()
        .unwrap();
    assert!(
        error
            .to_string()
            .starts_with("cannot open database sqlite:///nonexistent-dir/deeper/cairn.db"),
        "{error}"
    );
}
