//! Backups kept off the cluster's disk: a region's repository on an S3-compatible server
//! (s3s-fs on loopback, as `make test` installs it), encrypted by default, passes the same
//! round trip and verification as a local one; a wrong or missing key is a clear error when
//! the repositories are opened, never garbage later.

mod common;

use std::collections::HashMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_core::ports::{ClusterChange, Engine};
use cairn_engine_local::cluster::Launcher;
use cairn_engine_local::engine::{LocalEngine, RepositoryPlace, RepositorySettings};
use cairn_model::*;
use common::{http, numbers};

const ACCESS_KEY: &str = "cairn-test";
const SECRET_KEY: &str = "cairn-test-secret";
const BUCKET: &str = "cairn";

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

/// s3s-fs over `root`, or `None` (skipped) when it is not installed and not required.
fn start_s3(root: &Path) -> Option<S3Server> {
    let binary = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("s3s-fs"))
            .find(|p| p.is_file())
    });
    let Some(binary) = binary else {
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
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "s3s-fs did not start on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(S3Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    })
}

fn settings(server: &S3Server, key_file: PathBuf) -> RepositorySettings {
    let place = RepositoryPlace {
        url: format!("s3://{BUCKET}/cairn/local-1"),
        s3: cairn_snapshot::S3Settings {
            endpoint: Some(server.endpoint.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some(ACCESS_KEY.into()),
            secret_access_key: Some(SECRET_KEY.into()),
        },
    };
    RepositorySettings {
        places: HashMap::from([("local-1".to_owned(), place)]),
        key_file: Some(key_file),
        encrypt_new: true,
    }
}

fn engine(root: &Path, settings: RepositorySettings) -> LocalEngine {
    LocalEngine::new(root, Launcher::new(env!("CARGO_BIN_EXE_cairn-node"), &[]))
        .with_repositories(settings)
}

fn cluster(id: &str, topology: Topology) -> Cluster {
    let project = ProjectId::parse("c1ev3l5o0aeu6ojco7b0").unwrap();
    Cluster {
        id: ClusterId::parse(id).unwrap(),
        organization_id: OrganizationId::parse("c1ev3l5o0aeu6ojco7b0").unwrap(),
        project_id: project,
        network_id: NetworkId::parse("c1ev3l5o0aeu6ojco7b0").unwrap(),
        description: format!("cluster {id}"),
        provider: "local".into(),
        region: "local-1".into(),
        topology,
        instance_type: InstanceType::F1,
        disk_size_gb: 8,
        disk_type: "local".into(),
        server_version: "24.10".into(),
        server_version_tag: "24.10.1".into(),
        projection_level: ProjectionLevel::Off,
        status: ClusterStatus::Provisioning,
        health: ClusterHealth::Ok,
        protected: false,
        created: chrono::Utc::now(),
        source_backup_id: None,
        addresses: ClusterAddresses::default(),
    }
}

fn backup_of(cluster: &Cluster) -> Backup {
    serde_json::from_value(serde_json::json!({
        "id": "c10d0h2rh41lba1v92k0", "projectId": cluster.project_id, "description": "offsite",
        "sourceClusterId": cluster.id, "sourceClusterDescription": cluster.description,
        "provider": "local", "region": "local-1", "serverVersion": "24.10",
        "serverVersionTag": "24.10.1", "sizeGb": 8, "availableNodeCount": 0,
        "status": "creating", "created": chrono::Utc::now(), "linkedResource": ""
    }))
    .unwrap()
}

/// Kills the clusters' nodes when the test ends, however it ends.
struct Teardown(PathBuf);

impl Drop for Teardown {
    fn drop(&mut self) {
        for pid in common::files_under(&self.0)
            .into_iter()
            .filter(|p| p.ends_with("node.pid"))
        {
            if let Ok(pid) = std::fs::read_to_string(pid) {
                let _ = Command::new("kill").args(["-9", pid.trim()]).status();
            }
        }
    }
}

fn append(leader: &str, streams: u64, per_stream: u64, from: u64) {
    for s in 0..streams {
        let events: Vec<_> = (from..from + per_stream)
            .map(|n| serde_json::json!({"eventId": format!("{s}-{n}"), "eventType": "OrderPlaced", "data": {"customer": "marmalade-customer", "n": n}}))
            .collect();
        let body = serde_json::Value::Array(events).to_string();
        let (status, answer) =
            http(leader, "POST", &format!("/streams/orders-{s}"), &body).unwrap();
        assert_eq!(status, 201, "{answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_on_s3_backs_up_encrypted_restores_verifies_and_deletes_like_a_local_one() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = start_s3(&dir.path().join("s3")) else {
        return;
    };
    let root = dir.path().join("regions");
    let _teardown = Teardown(root.clone());
    let key = dir.path().join("repository.key");
    let engine = engine(&root, settings(&server, key.clone()));
    let regions = ["local-1".to_owned()];
    let check = engine.check_repositories(&regions).await.unwrap();
    assert_eq!(check.missing, regions, "nothing there yet");
    let facts = engine.create_repositories(&check.missing).await.unwrap();
    assert!(facts[0].encrypted, "{facts:?}");
    assert!(facts[0]
        .location
        .starts_with("s3://cairn/cairn/local-1 at http://127.0.0.1:"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let (source, target) = (
        cluster("c1ev3l5o0aeu6ojco7b0", Topology::ThreeNodeMultiZone),
        cluster("c1eut65o0aeu6ojco7a0", Topology::SingleNode),
    );
    let leader = engine.provision(&source, None).await.unwrap().tcp[0].clone();
    append(&leader, 20, 50, 0);
    let mut backup = backup_of(&source);
    let snapshot = engine
        .snapshot(&source, &backup, Arc::new(|_| {}))
        .await
        .unwrap();
    backup.checksum = Some(snapshot.checksum.clone());
    append(&leader, 20, 5, 50);

    let restored = engine.provision(&target, Some(&backup)).await.unwrap();
    for s in [0, 19] {
        assert_eq!(
            numbers(&restored.tcp[0], &format!("orders-{s}")),
            (0..50).collect::<Vec<_>>()
        );
    }
    assert_eq!(engine.contents(&target).await.unwrap(), snapshot.contents);
    let verified = engine.verify_snapshot(&backup).await.unwrap();
    assert!(verified.files >= 2 && verified.chunks > 0, "{verified:?}");

    // Nothing the cluster wrote is readable in the bucket: the events are encrypted at rest.
    let bucket = dir.path().join("s3").join(BUCKET);
    for object in common::files_under(&bucket) {
        let bytes = std::fs::read(&object).unwrap();
        assert!(
            !bytes.windows(18).any(|w| w == b"marmalade-customer"),
            "{} holds plaintext",
            object.display()
        );
    }
    // The cluster's own disk holds no backup data.
    assert!(!root.join("local-1/snapshots").exists());

    engine.delete_snapshot(&backup).await.unwrap();
    let gone = engine
        .provision(
            &cluster("c1mnqjdo0aembuk4ljo0", Topology::SingleNode),
            Some(&backup),
        )
        .await
        .unwrap_err();
    assert!(gone.to_string().contains("restoring the backup"), "{gone}");
    for c in [&source, &target] {
        engine.apply(c, &ClusterChange::Delete).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_missing_key_is_a_clear_error_when_the_repositories_are_opened() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = start_s3(&dir.path().join("s3")) else {
        return;
    };
    let root = dir.path().join("regions");
    let key = dir.path().join("repository.key");
    let regions = ["local-1".to_owned()];
    engine(&root, settings(&server, key.clone()))
        .create_repositories(&regions)
        .await
        .unwrap();

    std::fs::remove_file(&key).unwrap();
    let missing = engine(&root, settings(&server, key.clone()))
        .check_repositories(&regions)
        .await
        .unwrap_err()
        .to_string();
    assert!(missing.contains("region local-1"), "{missing}");
    assert!(
        missing.contains("is encrypted, and its key file"),
        "{missing}"
    );
    assert!(
        !key.exists(),
        "no new key was made in place of the lost one"
    );

    cairn_snapshot::Key::create(&key).unwrap();
    let wrong = engine(&root, settings(&server, key.clone()))
        .check_repositories(&regions)
        .await
        .unwrap_err()
        .to_string();
    assert!(wrong.contains("is not this repository's key"), "{wrong}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_that_does_not_answer_is_reported_not_fatal_and_nothing_is_created_there() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut server) = start_s3(&dir.path().join("s3")) else {
        return;
    };
    let settings = settings(&server, dir.path().join("repository.key"));
    // The server goes away before Cairn starts.
    let _ = server.child.kill();
    let _ = server.child.wait();
    let engine = engine(&dir.path().join("regions"), settings);
    let check = engine
        .check_repositories(&["local-1".to_owned()])
        .await
        .unwrap();
    assert!(check.missing.is_empty() && check.ready.is_empty());
    assert_eq!(check.unreachable.len(), 1, "{check:?}");
    assert_eq!(check.unreachable[0].0, "local-1");
}
