//! Clusters of real node processes through `Clusters`: started healthy, degraded or down from
//! real probes when a node is killed, healed by `ensure_running`, adopted after a restart of
//! the engine, stopped.

mod common;

use std::time::{Duration, Instant};

use cairn_engine_local::cluster::{ClusterLayout, Clusters, Health, Launcher};
use common::http;

fn clusters() -> Clusters {
    Clusters::new(Launcher::new(env!("CARGO_BIN_EXE_cairn-node"), &[]))
}

fn append(address: &str, n: u64) -> u16 {
    let body = format!(r#"[{{"eventId":"id-{n}","eventType":"Tick","data":{{"n":{n}}}}}]"#);
    http(address, "POST", "/streams/ticks", &body).unwrap().0
}

fn count(address: &str) -> usize {
    let (_, body) = http(address, "GET", "/streams/ticks?count=100000", "").unwrap();
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["events"]
        .as_array()
        .unwrap()
        .len()
}

/// Kills every node of the layout when dropped, so a failing test leaves no process behind.
struct Cleanup<'a>(&'a ClusterLayout);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for node in &self.0.nodes {
            common::kill_node(&node.volume);
        }
    }
}

fn kill_9(layout: &ClusterLayout, index: usize) {
    let pid = std::fs::read_to_string(layout.nodes[index].volume.join("node.pid")).unwrap();
    assert!(std::process::Command::new("kill")
        .args(["-9", pid.trim()])
        .status()
        .unwrap()
        .success());
}

async fn health_within(
    clusters: &Clusters,
    layout: &ClusterLayout,
    wanted: fn(&Health) -> bool,
) -> Health {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let health = clusters.health(layout).await;
        if wanted(&health) || Instant::now() > deadline {
            return health;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_follower_degrades_the_cluster_within_seconds_and_ensure_running_heals_it() {
    let dir = tempfile::tempdir().unwrap();
    let layout = ClusterLayout::new(dir.path(), 3, 1 << 30, 64 * 1024).unwrap();
    let _cleanup = Cleanup(&layout);
    let clusters = clusters();
    clusters.ensure_running(&layout).await.unwrap();
    assert_eq!(clusters.health(&layout).await, Health::Ok);
    let leader = layout.leader().address();
    for n in 0..50 {
        assert_eq!(append(&leader, n), 201);
    }

    kill_9(&layout, 2);
    let health = health_within(&clusters, &layout, |h| *h != Health::Ok).await;
    // Killed before it had copied the last appends, it is also said to be behind: either way
    // the reason names node 2 and that it does not answer.
    match &health {
        Health::Degraded(reason) => assert!(
            reason.starts_with("node 2 ") && reason.ends_with("does not answer"),
            "{reason}"
        ),
        other => panic!("degraded, not {other:?}"),
    }
    for n in 50..60 {
        assert_eq!(
            append(&leader, n),
            201,
            "two of three still make a majority"
        );
    }

    clusters.ensure_running(&layout).await.unwrap();
    assert_eq!(
        health_within(&clusters, &layout, |h| *h == Health::Ok).await,
        Health::Ok
    );
    let follower = layout.nodes[2].address();
    let deadline = Instant::now() + Duration::from_secs(5);
    while count(&follower) < 60 {
        assert!(
            Instant::now() < deadline,
            "the restarted follower caught up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    kill_9(&layout, 0);
    let health = health_within(&clusters, &layout, |h| matches!(h, Health::Down(_))).await;
    assert_eq!(
        health,
        Health::Down("the leader (node 0) does not answer".into())
    );
    clusters.stop(&layout).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_engine_adopts_running_nodes_instead_of_starting_twins() {
    let dir = tempfile::tempdir().unwrap();
    let layout = ClusterLayout::new(dir.path(), 1, 1 << 30, 64 * 1024).unwrap();
    let _cleanup = Cleanup(&layout);
    clusters().ensure_running(&layout).await.unwrap();
    let pid = std::fs::read_to_string(layout.nodes[0].volume.join("node.pid")).unwrap();
    assert_eq!(append(&layout.leader().address(), 1), 201);

    let after_restart = clusters();
    after_restart.ensure_running(&layout).await.unwrap();

    assert_eq!(
        std::fs::read_to_string(layout.nodes[0].volume.join("node.pid")).unwrap(),
        pid
    );
    assert_eq!(after_restart.health(&layout).await, Health::Ok);
    assert_eq!(count(&layout.leader().address()), 1);
    after_restart.stop(&layout).await.unwrap();
    assert!(matches!(
        after_restart.health(&layout).await,
        Health::Down(_)
    ));
    after_restart.stop(&layout).await.unwrap(); // stopping a stopped cluster is fine
}

fn committed(address: &str) -> u64 {
    let (_, body) = http(address, "GET", "/health", "").unwrap();
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["committedPosition"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_paused_through_a_64_mib_backlog_catches_up_when_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let layout = ClusterLayout::new(dir.path(), 3, 1 << 30, 16 << 20).unwrap();
    let _cleanup = Cleanup(&layout);
    let clusters = clusters();
    clusters.ensure_running(&layout).await.unwrap();
    let leader = layout.leader().address();
    let paused = std::fs::read_to_string(layout.nodes[2].volume.join("node.pid")).unwrap();
    let signal = |name: &str| {
        assert!(std::process::Command::new("kill")
            .args([&format!("-{name}"), paused.trim()])
            .status()
            .unwrap()
            .success());
    };

    signal("STOP");
    // 72 appends of 16 events of 64 KiB: 72 MiB the paused follower lacks.
    let payload = "x".repeat(64 << 10);
    for batch in 0..72 {
        let events: Vec<_> = (0..16)
            .map(|n| serde_json::json!({"eventId": format!("{batch}-{n}"), "eventType": "Big", "data": {"p": payload}}))
            .collect();
        let body = serde_json::Value::Array(events).to_string();
        let (status, answer) = http(&leader, "POST", "/streams/big", &body).unwrap();
        assert_eq!(status, 201, "{answer}");
    }
    let end = committed(&leader);
    assert!(end >= 64 << 20, "a backlog of {end} bytes");
    signal("CONT");

    let follower = layout.nodes[2].address();
    let deadline = Instant::now() + Duration::from_secs(120);
    while committed(&follower) < end {
        assert!(
            Instant::now() < deadline,
            "the follower is stuck at {} of {end}",
            committed(&follower)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        health_within(&clusters, &layout, |h| *h == Health::Ok).await,
        Health::Ok
    );
    clusters.stop(&layout).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_of_another_volume_on_a_dead_nodes_port_does_not_count_as_that_node() {
    let dir = tempfile::tempdir().unwrap();
    let layout = ClusterLayout::new(&dir.path().join("a"), 1, 1 << 30, 64 * 1024).unwrap();
    let _cleanup = Cleanup(&layout);
    let clusters = clusters();
    clusters.ensure_running(&layout).await.unwrap();
    kill_9(&layout, 0);
    while clusters.health(&layout).await == Health::Ok {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Another volume's node takes the freed port.
    let port = layout.nodes[0].port.to_string();
    let other = dir.path().join("other");
    let _intruder = common::start_node_with(&other, &["--port", &port]);

    assert_eq!(
        clusters.health(&layout).await,
        Health::Down("the node does not answer".into())
    );
}
