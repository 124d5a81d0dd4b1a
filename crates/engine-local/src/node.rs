//! A cluster node: one process owning one volume, serving its event log over HTTP on loopback.
//!
//! ```text
//! POST /streams/{stream}             [NewEvent, ...]      → 201 {firstEventNumber, lastEventNumber, position}
//! GET  /streams/{stream}?from=&count=                     → 200 {events: [RecordedEvent, ...]}
//! GET  /health                                            → 200 {status, role, committedPosition, usedBytes, quotaBytes, volume}
//! GET  /stats?upTo=P                                      → 200 {eventCount, lastPosition}
//! PUT  /quota  {bytes}                                    → 204 (the engine raises it on "expand disk")
//! ```
//!
//! Errors are JSON `{error}` with 400 (bad input), 507 (quota: nothing written) or 500.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::log::{EventLog, LogError, LogSettings, NewEvent, RecordedEvent};

/// A node's part in its cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A one-node cluster.
    Single,
    /// Takes appends and replicates them to these followers (addresses), acknowledging once a
    /// majority of the cluster has them.
    Leader { followers: Vec<String> },
    /// Takes replicated records from its leader only.
    Follower,
}

impl Role {
    fn name(&self) -> &'static str {
        match self {
            Role::Single | Role::Leader { .. } => "leader",
            Role::Follower => "follower",
        }
    }
}

/// How a node is started (`cairn node --data DIR [--port P] [--quota-bytes N] [--chunk-size N]`).
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub data: PathBuf,
    pub role: Role,
    /// 0: any free port (the node prints the one it got).
    pub port: u16,
    pub settings: LogSettings,
}

pub const NODE_USAGE: &str = "\
Usage: cairn node --data DIR [--port P] [--quota-bytes N] [--chunk-size N]
                  [--followers HOST:PORT,HOST:PORT | --follower]

Runs one cluster node: an event log in DIR served over HTTP on 127.0.0.1:P (0 = any free port;
the node prints `listening on ADDRESS` once it serves). Started and supervised by the embedded
engine; by hand for experiments.";

impl NodeConfig {
    pub fn from_args(args: &[String]) -> Result<NodeConfig, String> {
        let mut config = NodeConfig {
            data: PathBuf::new(),
            role: Role::Single,
            port: 0,
            settings: LogSettings {
                chunk_size: 256 << 20,
                quota: 8 << 30,
            },
        };
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let mut value = || iter.next().ok_or_else(|| format!("{arg} needs a value"));
            let number = |v: &String| {
                v.parse::<u64>()
                    .map_err(|_| format!("{arg} wants a number, got {v:?}"))
            };
            match arg.as_str() {
                "--data" => config.data = PathBuf::from(value()?),
                "--port" => {
                    config.port = value()?
                        .parse()
                        .map_err(|_| format!("{arg} wants a port"))?
                }
                "--quota-bytes" => config.settings.quota = number(value()?)?,
                "--chunk-size" => config.settings.chunk_size = number(value()?)?,
                "--followers" => {
                    let followers = value()?
                        .split(',')
                        .filter(|a| !a.is_empty())
                        .map(str::to_owned)
                        .collect();
                    config.role = Role::Leader { followers };
                }
                "--follower" => config.role = Role::Follower,
                other => return Err(format!("unknown argument {other}")),
            }
        }
        if config.data.as_os_str().is_empty() {
            return Err("--data DIR is required".into());
        }
        if config.settings.chunk_size < 4096 {
            return Err("--chunk-size is at least 4096".into());
        }
        Ok(config)
    }
}

#[derive(Clone)]
struct NodeState {
    log: Arc<Mutex<EventLog>>,
    role: Arc<Role>,
    followers: Arc<Vec<Follower>>,
    client: reqwest::Client,
}

/// What a leader knows of one follower.
struct Follower {
    address: String,
    /// How far the follower's log is known to reach.
    end: AtomicU64,
    reachable: AtomicBool,
    /// One replication at a time per follower.
    busy: tokio::sync::Mutex<()>,
}

/// The file in a volume that holds the pid of the node serving it.
pub const PID_FILE: &str = "node.pid";

/// How long a leader waits for a follower before counting it out of this append.
const REPLICATION_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a leader brings idle followers up to date (and learns who is behind).
const REPLICATION_TICK: Duration = Duration::from_millis(500);
/// Bytes per replication request.
const REPLICATION_BATCH: usize = 4 << 20;
/// The largest append a client may send (axum's default, said out loud: replication's limit
/// follows from it).
const APPEND_BODY_LIMIT: usize = 2 << 20;
/// A replication request: a batch, plus the one record that may cross its end (never more
/// than an append), plus 12 bytes of framing per record. A follower that refused these would
/// never catch up.
const REPLICATE_BODY_LIMIT: usize = 2 * REPLICATION_BATCH + APPEND_BODY_LIMIT;

/// The node's HTTP API over an opened log.
pub fn router(log: EventLog, role: Role) -> Router {
    node_router(state(log, role))
}

fn state(log: EventLog, role: Role) -> NodeState {
    let followers = match &role {
        Role::Leader { followers } => followers
            .iter()
            .map(|address| Follower {
                address: address.clone(),
                end: AtomicU64::new(0),
                reachable: AtomicBool::new(false),
                busy: tokio::sync::Mutex::new(()),
            })
            .collect(),
        _ => Vec::new(),
    };
    let client = reqwest::Client::builder()
        .timeout(REPLICATION_TIMEOUT)
        .build()
        .expect("an HTTP client without TLS builds");
    NodeState {
        log: Arc::new(Mutex::new(log)),
        role: Arc::new(role),
        followers: Arc::new(followers),
        client,
    }
}

fn node_router(state: NodeState) -> Router {
    Router::new()
        .route("/streams/{stream}", post(append).get(read))
        .route("/health", get(health))
        .route("/stats", get(stats))
        .route("/quota", put(set_quota))
        .route(
            "/replicate",
            post(take_replicated).layer(DefaultBodyLimit::max(REPLICATE_BODY_LIMIT)),
        )
        .layer(DefaultBodyLimit::max(APPEND_BODY_LIMIT))
        .with_state(state)
}

/// Opens the volume and serves until the process is stopped.
pub async fn run(config: NodeConfig) -> Result<(), String> {
    let log = {
        let (data, settings) = (config.data.clone(), config.settings);
        tokio::task::spawn_blocking(move || EventLog::open(&data, settings))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?
    };
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], config.port)))
        .await
        .map_err(|e| format!("cannot listen on port {}: {e}", config.port))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    // Who owns the volume now, so that an engine started later can stop this node.
    let pid_file = config.data.join(PID_FILE);
    std::fs::write(&pid_file, std::process::id().to_string())
        .map_err(|e| format!("{}: {e}", pid_file.display()))?;
    let state = state(log, config.role);
    if !state.followers.is_empty() {
        tokio::spawn(keep_followers_up_to_date(state.clone()));
    }
    // The engine reads this line to learn the port.
    println!("listening on {address}");
    axum::serve(listener, node_router(state))
        .await
        .map_err(|e| e.to_string())
}

struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<LogError> for ApiError {
    fn from(error: LogError) -> Self {
        let status = match &error {
            LogError::QuotaExceeded { .. } => StatusCode::INSUFFICIENT_STORAGE,
            LogError::InvalidEvent(_) => StatusCode::BAD_REQUEST,
            LogError::OutOfStep { .. } => StatusCode::CONFLICT,
            LogError::Io { .. } | LogError::Damaged { .. } | LogError::VolumeInUse(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError(status, error.to_string())
    }
}

async fn blocking<T: Send + 'static>(
    state: &NodeState,
    work: impl FnOnce(&mut EventLog) -> Result<T, LogError> + Send + 'static,
) -> Result<T, ApiError> {
    let log = state.log.clone();
    tokio::task::spawn_blocking(move || {
        work(&mut log.lock().expect("the log lock is not poisoned"))
    })
    .await
    .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(ApiError::from)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Appended {
    first_event_number: u64,
    last_event_number: u64,
    position: u64,
}

async fn append(
    State(state): State<NodeState>,
    Path(stream): Path<String>,
    body: Result<Json<Vec<NewEvent>>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    let Json(events) = body.map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.body_text()))?;
    if events.is_empty() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "no events to append".into(),
        ));
    }
    if *state.role == Role::Follower {
        return Err(ApiError(
            StatusCode::MISDIRECTED_REQUEST,
            "a follower takes appends from its leader only".into(),
        ));
    }
    let (recorded, end) = blocking(&state, move |log| {
        Ok((log.append(&stream, &events)?, log.end()))
    })
    .await?;
    if !state.followers.is_empty() {
        let copies = replicate_to_majority(&state, end).await;
        let cluster = state.followers.len() + 1;
        if copies <= cluster / 2 {
            return Err(ApiError(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "not acknowledged: {copies} of {cluster} nodes have it, a majority is needed"
                ),
            ));
        }
    }
    let (first, last) = (&recorded[0], &recorded[recorded.len() - 1]);
    let appended = Appended {
        first_event_number: first.event_number,
        last_event_number: last.event_number,
        position: last.position,
    };
    Ok((StatusCode::CREATED, Json(appended)))
}

#[derive(Deserialize)]
struct ReadQuery {
    #[serde(default)]
    from: u64,
    #[serde(default = "default_count")]
    count: usize,
}

fn default_count() -> usize {
    1000
}

#[derive(Serialize)]
struct Events {
    events: Vec<RecordedEvent>,
}

async fn read(
    State(state): State<NodeState>,
    Path(stream): Path<String>,
    Query(query): Query<ReadQuery>,
) -> Result<Json<Events>, ApiError> {
    let count = query.count.min(10_000);
    let events = blocking(&state, move |log| {
        log.read_stream(&stream, query.from, count)
    })
    .await?;
    Ok(Json(Events { events }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Health {
    status: &'static str,
    role: &'static str,
    committed_position: u64,
    used_bytes: u64,
    quota_bytes: u64,
    /// The volume this node serves: a prober checks that the port it asked is this node's.
    volume: String,
    followers: Vec<FollowerHealth>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FollowerHealth {
    address: String,
    position: u64,
    behind_bytes: u64,
    reachable: bool,
}

async fn health(State(state): State<NodeState>) -> Result<Json<Health>, ApiError> {
    // Through the blocking pool like everything else: an append holds the log while it syncs.
    let (end, used, quota, volume) = blocking(&state, |log| {
        let volume = log.dir().display().to_string();
        Ok((log.end(), log.used(), log.quota(), volume))
    })
    .await?;
    let followers = state
        .followers
        .iter()
        .map(|f| {
            let position = f.end.load(Ordering::SeqCst);
            FollowerHealth {
                address: f.address.clone(),
                position,
                behind_bytes: end.saturating_sub(position),
                reachable: f.reachable.load(Ordering::SeqCst),
            }
        })
        .collect();
    Ok(Json(Health {
        status: "ok",
        role: state.role.name(),
        committed_position: end,
        used_bytes: used,
        quota_bytes: quota,
        volume,
        followers,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatsQuery {
    up_to: Option<u64>,
}

/// `GET /stats?upTo=P`: the events before position P (all of them without it) and where they
/// end.
async fn stats(
    State(state): State<NodeState>,
    Query(query): Query<StatsQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (count, end) = blocking(&state, move |log| Ok(log.contents(query.up_to))).await?;
    Ok(Json(json!({ "eventCount": count, "lastPosition": end })))
}

#[derive(Deserialize)]
struct Quota {
    bytes: u64,
}

async fn set_quota(
    State(state): State<NodeState>,
    Json(quota): Json<Quota>,
) -> Result<StatusCode, ApiError> {
    blocking(&state, move |log| {
        log.set_quota(quota.bytes);
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replicates up to `end` to every follower at once; returns how many nodes (this one
/// included) have it once a majority does, or once every follower has answered or timed out.
async fn replicate_to_majority(state: &NodeState, end: u64) -> usize {
    let cluster = state.followers.len() + 1;
    let (done, mut results) = tokio::sync::mpsc::channel(cluster);
    for index in 0..state.followers.len() {
        let (state, done) = (state.clone(), done.clone());
        tokio::spawn(async move {
            let _ = done.send(catch_up(&state, index, end).await).await;
        });
    }
    drop(done);
    let mut copies = 1;
    while copies <= cluster / 2 {
        match results.recv().await {
            Some(true) => copies += 1,
            Some(false) => {}
            None => break,
        }
    }
    copies
}

/// Sends follower `index` what it lacks up to `end`; whether it has it all now.
async fn catch_up(state: &NodeState, index: usize, end: u64) -> bool {
    let follower = &state.followers[index];
    // One replication at a time per follower; waiting longer than a request may take means
    // the follower is stuck, and this append is not counted on it.
    let Ok(_turn) = tokio::time::timeout(REPLICATION_TIMEOUT, follower.busy.lock()).await else {
        return false;
    };
    for _ in 0..64 {
        let from = follower.end.load(Ordering::SeqCst);
        // Nothing to send still means one round trip to a follower never heard from, to learn
        // whether it answers and how far it is.
        if from >= end && follower.reachable.load(Ordering::SeqCst) {
            return true;
        }
        let records = match blocking(state, move |log| log.read_raw(from, REPLICATION_BATCH)).await
        {
            Ok(records) => records,
            Err(_) => return false,
        };
        let mut body = Vec::with_capacity(records.iter().map(|(_, r)| r.len() + 12).sum());
        for (position, record) in &records {
            body.extend_from_slice(&position.to_le_bytes());
            body.extend_from_slice(&(record.len() as u32).to_le_bytes());
            body.extend_from_slice(record);
        }
        let sent = state
            .client
            .post(format!("http://{}/replicate", follower.address))
            .body(body)
            .send()
            .await;
        let Ok(response) = sent else {
            follower.reachable.store(false, Ordering::SeqCst);
            return false;
        };
        follower.reachable.store(true, Ordering::SeqCst);
        let status = response.status();
        let Ok(answer) = response.json::<Replicated>().await else {
            return false;
        };
        // 200: took them; 409: out of step, its end says where to resume.
        if status.is_success() || status == reqwest::StatusCode::CONFLICT {
            follower.end.store(answer.end, Ordering::SeqCst);
        } else {
            return false;
        }
    }
    follower.end.load(Ordering::SeqCst) >= end
}

/// Keeps followers current between appends, so a restarted or resumed one catches up and a
/// stopped one shows as behind.
async fn keep_followers_up_to_date(state: NodeState) {
    // The first round at once: a leader just started learns its followers before anyone asks.
    loop {
        if let Ok(end) = blocking(&state, |log| Ok(log.end())).await {
            for index in 0..state.followers.len() {
                let state = state.clone();
                tokio::spawn(async move { catch_up(&state, index, end).await });
            }
        }
        tokio::time::sleep(REPLICATION_TICK).await;
    }
}

#[derive(Serialize, Deserialize)]
struct Replicated {
    end: u64,
}

/// A follower takes records from its leader: `[u64 position][u32 length][record]...`.
async fn take_replicated(State(state): State<NodeState>, body: axum::body::Bytes) -> Response {
    let mut records = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let Some(head) = body.get(at..at + 12) else {
            return ApiError(
                StatusCode::BAD_REQUEST,
                "a replication frame is cut short".into(),
            )
            .into_response();
        };
        let position = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
        let len = u32::from_le_bytes(head[8..].try_into().expect("4 bytes")) as usize;
        let Some(record) = body.get(at + 12..at + 12 + len) else {
            return ApiError(
                StatusCode::BAD_REQUEST,
                "a replicated record is cut short".into(),
            )
            .into_response();
        };
        records.push((position, record.to_vec()));
        at += 12 + len;
    }
    match blocking(&state, move |log| log.append_replicated(records)).await {
        Ok(end) => (StatusCode::OK, Json(Replicated { end })).into_response(),
        Err(ApiError(StatusCode::CONFLICT, _)) => {
            let end = blocking(&state, |log| Ok(log.end())).await.unwrap_or(0);
            (StatusCode::CONFLICT, Json(Replicated { end })).into_response()
        }
        Err(error) => error.into_response(),
    }
}
