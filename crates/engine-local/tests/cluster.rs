//! Three-node clusters as real processes: the leader acknowledges an append once a majority
//! has it, followers catch up, and a stopped follower shows as behind.

mod common;

use std::time::{Duration, Instant};

use common::{http, numbers, start_node_with, NodeProcess};
use serde_json::Value;

struct Cluster {
    leader: NodeProcess,
    followers: Vec<NodeProcess>,
    _dir: tempfile::TempDir,
}

fn three_nodes() -> Cluster {
    let dir = tempfile::tempdir().unwrap();
    let followers: Vec<NodeProcess> = (1..=2)
        .map(|i| start_node_with(&dir.path().join(format!("node-{i}")), &["--follower"]))
        .collect();
    let addresses = followers
        .iter()
        .map(|f| f.address.clone())
        .collect::<Vec<_>>()
        .join(",");
    let leader = start_node_with(&dir.path().join("node-0"), &["--followers", &addresses]);
    Cluster {
        leader,
        followers,
        _dir: dir,
    }
}

fn append(address: &str, n: u64) -> (u16, String) {
    let body = format!(r#"[{{"eventId":"id-{n}","eventType":"Tick","data":{{"n":{n}}}}}]"#);
    http(address, "POST", "/streams/ticks", &body).unwrap()
}

fn health(address: &str) -> Value {
    serde_json::from_str(&http(address, "GET", "/health", "").unwrap().1).unwrap()
}

/// Polls until `check` holds, for up to ten seconds.
fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn every_append_the_leader_acknowledges_reaches_both_followers() {
    let cluster = three_nodes();
    for n in 0..100 {
        assert_eq!(append(&cluster.leader.address, n).0, 201);
    }

    let all: Vec<u64> = (0..100).collect();
    assert_eq!(numbers(&cluster.leader.address, "ticks"), all);
    for follower in &cluster.followers {
        eventually("the follower has every event", || {
            numbers(&follower.address, "ticks") == all
        });
        assert_eq!(health(&follower.address)["role"], "follower");
        let (status, _) = append(&follower.address, 999);
        assert_eq!(status, 421, "a follower refuses appends from clients");
    }
    let leader = health(&cluster.leader.address);
    assert_eq!(leader["role"], "leader");
    eventually("the leader sees both followers caught up", || {
        health(&cluster.leader.address)["followers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["behindBytes"] == 0)
    });
}

#[test]
fn a_stopped_follower_falls_behind_while_appends_go_on_and_catches_up_when_resumed() {
    let cluster = three_nodes();
    for n in 0..10 {
        assert_eq!(append(&cluster.leader.address, n).0, 201);
    }
    let stopped = &cluster.followers[1];
    stopped.signal("STOP");

    for n in 10..60 {
        assert_eq!(
            append(&cluster.leader.address, n).0,
            201,
            "a majority is still there"
        );
    }
    eventually("the leader reports the stopped follower behind", || {
        let followers = health(&cluster.leader.address)["followers"].clone();
        followers.as_array().unwrap().iter().any(|f| {
            f["address"] == stopped.address.as_str() && f["behindBytes"].as_u64() > Some(0)
        })
    });

    stopped.signal("CONT");
    let all: Vec<u64> = (0..60).collect();
    eventually("the resumed follower catches up", || {
        numbers(&stopped.address, "ticks") == all
    });
}

#[test]
fn without_a_majority_an_append_is_refused_with_the_reason() {
    let mut cluster = three_nodes();
    assert_eq!(append(&cluster.leader.address, 0).0, 201);
    cluster.followers.clear(); // both followers killed

    let (status, body) = append(&cluster.leader.address, 1);

    assert_eq!(status, 503);
    assert!(body.contains("majority"), "{body}");
}
