//! The same round trip as on a local directory, against a real S3 server on loopback
//! (s3s-fs, installed from crates.io by scripts/bootstrap.sh): the scale-out path is real.

mod common;

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_snapshot::{Error, ObjectStorage, Repository, S3Settings};
use common::*;

struct S3Server {
    child: Child,
    endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ACCESS_KEY: &str = "cairn-test";
const SECRET_KEY: &str = "cairn-test-secret";
const BUCKET: &str = "cairn";

/// Starts s3s-fs over `root`; `None` (test skipped) when it is not installed, unless
/// CAIRN_REQUIRE_S3=1 says the run must have it (as `make test` does).
fn start_s3(root: &Path) -> Option<S3Server> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("s3s-fs"))
            .find(|p| p.is_file())
    });
    let Some(binary) = found else {
        assert!(
            std::env::var("CAIRN_REQUIRE_S3").as_deref() != Ok("1"),
            "s3s-fs is required but not on PATH"
        );
        eprintln!("skipped: s3s-fs is not installed (scripts/bootstrap.sh installs it)");
        return None;
    };
    std::fs::create_dir_all(root.join(BUCKET)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(binary)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
        .arg(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = S3Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "s3s-fs did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(server)
}

fn settings(server: &S3Server, secret: &str) -> S3Settings {
    S3Settings {
        endpoint: Some(server.endpoint.clone()),
        region: Some("us-east-1".into()),
        access_key_id: Some(ACCESS_KEY.into()),
        secret_access_key: Some(secret.into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tree_round_trips_through_an_s3_compatible_server() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = start_s3(&dir.path().join("s3")) else {
        return;
    };
    let storage = ObjectStorage::s3(
        &format!("s3://{BUCKET}/backups/region-1"),
        &settings(&server, SECRET_KEY),
    )
    .unwrap();

    round_trip(Arc::new(storage), dir.path()).await;

    let objects = dir.path().join("s3").join(BUCKET).join("backups/region-1");
    assert!(
        objects.join("config").is_file(),
        "the repository lives under the URL's prefix"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_s3_credentials_are_an_error_naming_the_operation() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = start_s3(&dir.path().join("s3")) else {
        return;
    };
    let storage = ObjectStorage::s3(
        &format!("s3://{BUCKET}/r"),
        &settings(&server, "not-the-secret"),
    )
    .unwrap();

    let error = Repository::open(Arc::new(storage), quick_open())
        .await
        .unwrap_err();

    assert!(
        matches!(&error, Error::Storage(e) if e.op == "get" && e.key == "config"),
        "{error}"
    );
    assert!(
        error.to_string().contains("403"),
        "the server, not the network, refused: {error}"
    );
}
