//! Cairn itself killed (SIGKILL) in the middle of a backup, then started again on the same data
//! directory: the backup is defunct with the reason, the cluster's lock is released (a new
//! backup goes through), the nodes kept running with their data, and what the cut-short backup
//! had written to the region's repository is gone.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A `cairn serve` process on a data directory; killed when dropped.
struct Cairn {
    child: Child,
    base: String,
    /// The admin's session cookie (`cairn_session=…`).
    cookie: String,
}

const ADMIN_EMAIL: &str = "ops@example.com";
const ADMIN_PASSWORD: &str = "correct horse battery";

impl Cairn {
    async fn start(data: &Path, port: u16) -> Cairn {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.join("serve.log"))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("serve")
            .env("CAIRN_DATA_DIR", data)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", data.join("site"))
            // Slow enough to be caught between its first pack and its manifest.
            .env("CAIRN_SNAPSHOT_READ_LIMIT", "8MiB")
            .env("CAIRN_LOG", "info,sqlx=warn")
            .env("CAIRN_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("CAIRN_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut cairn = Cairn {
            child,
            base: format!("http://127.0.0.1:{port}"),
            cookie: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while reqwest::get(format!("{}/healthz", cairn.base))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "cairn did not answer within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        cairn.cookie = cairn.sign_in().await;
        cairn
    }

    /// Signs in as the admin, as the login form does; returns the session cookie.
    async fn sign_in(&self) -> String {
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(format!("{}/login", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "email={}&password={}",
                form_encode(ADMIN_EMAIL),
                form_encode(ADMIN_PASSWORD)
            ))
            .send()
            .await
            .unwrap();
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("cairn_session="))
            .and_then(|v| v.split(';').next())
            .expect("signing in sets the session cookie")
            .to_owned()
    }

    /// Calls a server function with form fields, as a plain HTML form would.
    async fn call(&self, endpoint: &str, fields: &[(&str, &str)]) -> Value {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect();
        let response = reqwest::Client::new()
            .post(format!("{}/api/{endpoint}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .header("cookie", &self.cookie)
            .body(body.join("&"))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let value: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{endpoint}: {status} {value}");
        value
    }

    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Cairn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Node processes outlive Cairn on purpose; the test's own cleanup stops them.
struct Nodes(PathBuf);

impl Drop for Nodes {
    fn drop(&mut self) {
        for pid in files_named(&self.0, "node.pid")
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok()?.trim().parse::<i32>().ok())
        {
            // SAFETY: a plain signal to a node process this test's Cairn started.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

fn files_named(root: &Path, name: &str) -> Vec<PathBuf> {
    files_under(root)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == name))
        .collect()
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn until(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// 32 MiB of events that compress poorly (as real payloads do), in 1 MiB appends.
async fn fill(node: &str) -> u64 {
    let client = reqwest::Client::new();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut events = 0;
    for request in 0..32 {
        let batch: Vec<Value> = (0..16)
            .map(|i| {
                let payload: String = (0..64 * 1024)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        alphabet[(state % 64) as usize] as char
                    })
                    .collect();
                json!({"eventId": format!("e-{request}-{i}"), "eventType": "Blob", "data": {"payload": payload}})
            })
            .collect();
        let response = client
            .post(format!("http://{node}/streams/blobs"))
            .json(&batch)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        events += 16;
    }
    events
}

async fn count(node: &str) -> u64 {
    let events: Value = reqwest::get(format!("http://{node}/streams/blobs?from=0&count=100000"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    events["events"].as_array().unwrap().len() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cairn_killed_mid_backup_and_restarted_leaves_it_defunct_unlocked_and_nothing_orphaned() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let _nodes = Nodes(data.clone());
    let port = free_port();
    let mut cairn = Cairn::start(&data, port).await;

    let networks = cairn.call("networks/list", &[]).await;
    let network = networks
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["region"] == "local-1")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cluster = cairn
        .call(
            "clusters/create",
            &[
                ("request[description]", "orders"),
                ("request[networkId]", &network),
                ("request[topology]", "single-node"),
                ("request[instanceType]", "c4"),
                ("request[diskSizeGb]", "8"),
                ("request[diskType]", "local-ssd"),
                ("request[serverVersion]", "24.10"),
                ("request[projectionLevel]", "system"),
            ],
        )
        .await;
    let cluster_id = cluster["id"].as_str().unwrap().to_owned();
    let get_cluster =
        async |cairn: &Cairn| cairn.call("clusters/get", &[("id", &cluster_id)]).await;
    until(
        "the cluster is available",
        Duration::from_secs(30),
        async || get_cluster(&cairn).await["status"] == "available",
    )
    .await;
    let node = get_cluster(&cairn).await["addresses"]["tcp"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let events = fill(&node).await;

    let backup = cairn
        .call(
            "backups/create",
            &[("cluster_id", &cluster_id), ("description", "cut short")],
        )
        .await;
    let backup_id = backup["id"].as_str().unwrap().to_owned();
    let repository = data.join("regions/local-1/snapshots");
    until(
        "the backup has written a pack",
        Duration::from_secs(30),
        async || !files_under(&repository.join("packs")).is_empty(),
    )
    .await;
    cairn.kill();
    assert!(
        files_under(&repository.join("snapshots")).is_empty(),
        "killed before its manifest: the test needs the backup cut short"
    );

    let cairn = Cairn::start(&data, port).await;

    let settled = cairn.call("backups/get", &[("id", &backup_id)]).await;
    assert_eq!(settled["status"], "defunct", "{settled}");
    assert_eq!(
        settled["failureReason"],
        "Cairn stopped while this backup was being taken"
    );
    assert!(
        files_under(&repository.join("packs")).is_empty()
            && files_under(&repository.join("index")).is_empty(),
        "the cut-short backup's packs were collected: {:?}",
        files_under(&repository)
    );
    assert_eq!(
        count(&node).await,
        events,
        "the node kept running with its data"
    );

    let again = cairn
        .call(
            "backups/create",
            &[
                ("cluster_id", &cluster_id),
                ("description", "after restart"),
            ],
        )
        .await;
    let again_id = again["id"].as_str().unwrap().to_owned();
    until(
        "the new backup is available",
        Duration::from_secs(60),
        async || cairn.call("backups/get", &[("id", &again_id)]).await["status"] == "available",
    )
    .await;
}
