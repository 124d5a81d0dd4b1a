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
            if let Ok(pid) = std::fs::read_to_string(node.volume.join("node.pid")) {
                let _ = std::process::Command::new("kill")
                    .args(["-9", pid.trim()])
                    .status();
            }
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
    assert_eq!(health, Health::Degraded("node 2 does not answer".into()));
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
