//! A cluster node: one process owning one volume, serving its event log over HTTP on loopback.
//!
//! ```text
//! POST /streams/{stream}             [NewEvent, ...]      → 201 {firstEventNumber, lastEventNumber, position}
//! GET  /streams/{stream}?from=&count=                     → 200 {events: [RecordedEvent, ...]}
//! GET  /health                                            → 200 {status, role, committedPosition, usedBytes, quotaBytes}
//! PUT  /quota  {bytes}                                    → 204 (the engine raises it on "expand disk")
//! ```
//!
//! Errors are JSON `{error}` with 400 (bad input), 507 (quota: nothing written) or 500.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::log::{EventLog, LogError, LogSettings, NewEvent, RecordedEvent};

/// How a node is started (`cairn node --data DIR [--port P] [--quota-bytes N] [--chunk-size N]`).
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub data: PathBuf,
    /// 0: any free port (the node prints the one it got).
    pub port: u16,
    pub settings: LogSettings,
}

pub const NODE_USAGE: &str = "\
Usage: cairn node --data DIR [--port P] [--quota-bytes N] [--chunk-size N]

Runs one cluster node: an event log in DIR served over HTTP on 127.0.0.1:P (0 = any free port;
the node prints `listening on ADDRESS` once it serves). Started and supervised by the embedded
engine; by hand for experiments.";

impl NodeConfig {
    pub fn from_args(args: &[String]) -> Result<NodeConfig, String> {
        let mut config = NodeConfig {
            data: PathBuf::new(),
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
}

/// The node's HTTP API over an opened log.
pub fn router(log: EventLog) -> Router {
    let state = NodeState {
        log: Arc::new(Mutex::new(log)),
    };
    Router::new()
        .route("/streams/{stream}", post(append).get(read))
        .route("/health", get(health))
        .route("/quota", put(set_quota))
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
    // The engine reads this line to learn the port.
    println!("listening on {address}");
    axum::serve(listener, router(log))
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
            LogError::Io { .. } | LogError::Damaged { .. } => StatusCode::INTERNAL_SERVER_ERROR,
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
    let recorded = blocking(&state, move |log| log.append(&stream, &events)).await?;
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
}

async fn health(State(state): State<NodeState>) -> Result<Json<Health>, ApiError> {
    // Through the blocking pool like everything else: an append holds the log while it syncs.
    let (end, used, quota) =
        blocking(&state, |log| Ok((log.end(), log.used(), log.quota()))).await?;
    Ok(Json(Health {
        status: "ok",
        role: "leader",
        committed_position: end,
        used_bytes: used,
        quota_bytes: quota,
    }))
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
