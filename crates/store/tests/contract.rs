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

mod on_sqlite {
    cairn_core::store_contract!(Some(super::sqlite().await));
}

mod on_postgres {
    cairn_core::store_contract!(super::postgres().await);
}

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
