//! The node's HTTP API, in process through the router, and as a real process that is killed
//! with SIGKILL in the middle of appends.

mod common;

use common::{http, start_node};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use cairn_engine_local::log::{EventLog, LogSettings};
use cairn_engine_local::node::{router, Role};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

fn events(from: u64, count: u64) -> Value {
    Value::Array(
        (from..from + count)
            .map(|n| json!({ "eventId": format!("id-{n}"), "eventType": "ItemAdded", "data": { "n": n } }))
            .collect(),
    )
}

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.map_or(Body::empty(), |b| Body::from(b.to_string())))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn open(dir: &std::path::Path, quota: u64) -> axum::Router {
    router(
        EventLog::open(
            dir,
            LogSettings {
                chunk_size: 64 * 1024,
                quota,
            },
        )
        .unwrap(),
        Role::Single,
    )
}

#[tokio::test]
async fn events_appended_over_http_are_read_back_and_health_shows_the_committed_position() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path(), 1 << 30);

    let (status, appended) = call(&app, "POST", "/streams/order-1", Some(events(0, 3))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (
            appended["firstEventNumber"].as_u64(),
            appended["lastEventNumber"].as_u64()
        ),
        (Some(0), Some(2))
    );
    call(&app, "POST", "/streams/order-1", Some(events(3, 2))).await;

    let (status, read) = call(&app, "GET", "/streams/order-1?from=1&count=3", None).await;
    assert_eq!(status, StatusCode::OK);
    let numbers: Vec<u64> = read["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["n"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, vec![1, 2, 3]);
    let (_, health) = call(&app, "GET", "/health", None).await;
    assert_eq!(health["status"], "ok");
    assert!(health["committedPosition"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn an_append_past_the_quota_answers_507_and_the_node_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path(), 4096);

    let (status, error) = call(&app, "POST", "/streams/big", Some(events(0, 200))).await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
    assert!(
        error["error"].as_str().unwrap().contains("quota"),
        "{error}"
    );
    let (status, _) = call(&app, "POST", "/streams/small", Some(events(0, 1))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = call(&app, "PUT", "/quota", Some(json!({ "bytes": 1 << 20 }))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&app, "POST", "/streams/big", Some(events(0, 200))).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn malformed_appends_are_400_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path(), 1 << 30);
    for body in [
        json!({ "not": "a list" }),
        json!([]),
        json!([{ "eventId": "x", "eventType": "" }]),
    ] {
        let (status, error) = call(&app, "POST", "/streams/s", Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            !error["error"].as_str().unwrap_or("").is_empty(),
            "{body}: {error}"
        );
    }
}

#[test]
fn a_node_killed_mid_append_comes_back_with_every_acknowledged_event_and_no_torn_one() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_node(dir.path());
    let address = node.address.clone();
    let writer = std::thread::spawn(move || {
        let mut acknowledged = 0u64;
        loop {
            let body = events(acknowledged, 1).to_string();
            match http(&address, "POST", "/streams/s", &body) {
                Ok((201, _)) => acknowledged += 1,
                _ => return acknowledged,
            }
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(400));
    drop(node); // SIGKILL, wherever the node is in an append
    let acknowledged = writer.join().unwrap();
    assert!(
        acknowledged > 10,
        "the node took appends before it was killed: {acknowledged}"
    );

    let node = start_node(dir.path());
    let (status, body) = http(&node.address, "GET", "/streams/s?count=10000", "").unwrap();
    assert_eq!(status, 200);
    let read: Value = serde_json::from_str(&body).unwrap();
    let numbers: Vec<u64> = read["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["n"].as_u64().unwrap())
        .collect();
    // Everything acknowledged is there, in order; at most the one in flight besides.
    assert!(
        numbers.len() as u64 >= acknowledged && numbers.len() as u64 <= acknowledged + 1,
        "{} vs {acknowledged}",
        numbers.len()
    );
    assert!(numbers.iter().enumerate().all(|(i, n)| *n == i as u64));
    let (status, _) = http(
        &node.address,
        "POST",
        "/streams/s",
        &events(99_999, 1).to_string(),
    )
    .unwrap();
    assert_eq!(status, 201, "the restarted node takes appends");
}
