//! What the tests of the `cairn` process share: a `cairn serve` on a data directory (killed
//! when dropped), its REST API with a real token, its server functions with a real session,
//! and the node processes it leaves behind on purpose (stopped when the test ends).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const ADMIN_EMAIL: &str = "ops@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// A `cairn serve` process on a data directory; killed when dropped.
pub struct Cairn {
    child: Child,
    pub base: String,
    pub data: PathBuf,
    /// The admin's session cookie (`cairn_session=…`).
    pub cookie: String,
    /// An access token for the REST API.
    pub token: String,
    /// `organizations/{org}/projects/{project}` of the default project.
    pub scope: String,
}

impl Cairn {
    /// Starts Cairn on `data` (with `env` on top of the test defaults) and waits until it
    /// answers, signs in and has an API token.
    pub async fn start(data: &Path, port: u16, env: &[(&str, String)]) -> Cairn {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.join("serve.log"))
            .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
        command
            .arg("serve")
            .env("CAIRN_DATA_DIR", data)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", data.join("site"))
            .env("CAIRN_LOG", "info,sqlx=warn")
            .env("CAIRN_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("CAIRN_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().unwrap();
        let mut cairn = Cairn {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data: data.to_owned(),
            cookie: String::new(),
            token: String::new(),
            scope: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(answer) = reqwest::get(format!("{}/healthz", cairn.base)).await {
                if answer.status().is_success() {
                    break;
                }
            }
            if let Ok(Some(status)) = cairn.child.try_wait() {
                let log = std::fs::read_to_string(data.join("serve.log")).unwrap_or_default();
                panic!("cairn exited ({status}) before it answered:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "cairn did not answer within 90 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        cairn.cookie = cairn.sign_in().await;
        cairn.token = cairn.access_token().await;
        let organizations = cairn.api("GET", "/resources/v1/organizations", None).await;
        let organization = organizations["organizations"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let projects = cairn
            .api(
                "GET",
                &format!("/resources/v1/organizations/{organization}/projects"),
                None,
            )
            .await;
        let project = projects["projects"][0]["id"].as_str().unwrap().to_owned();
        cairn.scope = format!("organizations/{organization}/projects/{project}");
        cairn
    }

    /// Signs in as the admin, as the login form does; returns the session cookie.
    pub async fn sign_in(&self) -> String {
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

    /// An API token made with `cairn token create` beside the server (as an operator would),
    /// exchanged for an access token.
    async fn access_token(&self) -> String {
        let made = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args([
                "token",
                "create",
                "--email",
                ADMIN_EMAIL,
                "--description",
                "process test",
            ])
            .env("CAIRN_DATA_DIR", &self.data)
            .env("CAIRN_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let text = String::from_utf8(made.stdout).unwrap();
        let refresh = text
            .split_whitespace()
            .find(|w| w.starts_with("cairn_rt_"))
            .expect("the token is printed")
            .to_owned();
        let answer: Value = reqwest::Client::new()
            .post(format!("{}/oauth/token", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=refresh_token&client_id=process-test&refresh_token={}",
                form_encode(&refresh)
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    /// A REST call; answers the JSON body, or panics with the status and body.
    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.try_api(method, path, body).await;
        assert!(status < 300, "{method} {path}: {status} {value}");
        value
    }

    /// A REST call; answers the status and the JSON body (or `null`).
    pub async fn try_api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let client = reqwest::Client::new();
        let url = format!("{}{path}", self.base);
        let mut request = client
            .request(method.parse().unwrap(), url)
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                (status, serde_json::from_str(&text).unwrap_or(Value::Null))
            }
            Err(error) => (0, Value::String(error.to_string())),
        }
    }

    /// `/{service}/v1/{scope}/{rest}` of the default project.
    pub fn path(&self, service: &str, rest: &str) -> String {
        format!("/{service}/v1/{}/{rest}", self.scope)
    }

    /// Calls a server function with form fields, as a plain HTML form would.
    pub async fn call(&self, endpoint: &str, fields: &[(&str, &str)]) -> Value {
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

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Cairn {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Node processes outlive Cairn on purpose; the test's own cleanup stops them.
pub struct Nodes(pub PathBuf);

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

pub fn files_named(root: &Path, name: &str) -> Vec<PathBuf> {
    files_under(root)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == name))
        .collect()
}

pub fn files_under(root: &Path) -> Vec<PathBuf> {
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

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn until(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Like [`until`], but says whether it happened instead of failing.
pub async fn within(within: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while !check().await {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    true
}

/// `bytes` of events that compress poorly (as real payloads do), in 1 MiB appends to
/// `stream`; answers how many events.
pub async fn fill(node: &str, stream: &str, bytes: u64, seed: u64) -> u64 {
    let client = reqwest::Client::new();
    let mut state = seed | 1;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut events = 0;
    for request in 0..bytes.div_ceil(1 << 20) {
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
                serde_json::json!({"eventId": format!("e-{seed}-{request}-{i}"), "eventType": "Blob", "data": {"payload": payload}})
            })
            .collect();
        let response = client
            .post(format!("http://{node}/streams/{stream}"))
            .json(&batch)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        events += 16;
    }
    events
}

/// A real S3-protocol server (s3s-fs) over a folder on loopback, restartable.
pub struct S3 {
    child: Option<Child>,
    pub root: PathBuf,
    pub port: u16,
}

pub const S3_ACCESS_KEY: &str = "cairn-test";
pub const S3_SECRET_KEY: &str = "cairn-test-secret";
pub const S3_BUCKET: &str = "cairn";

impl S3 {
    /// `None` (skipped) when s3s-fs is not installed, unless CAIRN_REQUIRE_S3=1.
    pub fn start(root: &Path) -> Option<S3> {
        let binary = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("s3s-fs"))
                .find(|p| p.is_file())
        });
        if binary.is_none() {
            assert!(
                std::env::var("CAIRN_REQUIRE_S3").as_deref() != Ok("1"),
                "s3s-fs is required but not on PATH"
            );
            return None;
        }
        std::fs::create_dir_all(root.join(S3_BUCKET)).unwrap();
        let mut s3 = S3 {
            child: None,
            root: root.to_owned(),
            port: free_port(),
        };
        s3.restart();
        Some(s3)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// (Re)starts the server on the same port and folder, and waits until it listens.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new("s3s-fs")
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", S3_ACCESS_KEY, "--secret-key", S3_SECRET_KEY])
            .arg(&self.root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        self.kill();
    }
}
