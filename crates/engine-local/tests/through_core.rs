//! The embedded engine under the core, as `cairn serve` runs it: a real SQLite store, real node
//! processes, the core's use cases. Nodes are hurt the way machines hurt them (SIGKILL, SIGSTOP)
//! and the user-visible outcome is checked: stored health, backup status and failure reason.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_core::{Scope, Services, SiteConfig, SystemClock};
use cairn_engine_local::cluster::Launcher;
use cairn_engine_local::engine::LocalEngine;
use cairn_model::{
    BackupStatus, Cluster, ClusterHealth, ClusterStatus, CreateClusterRequest, InstanceType,
    ProjectionLevel, Topology,
};
use common::http;

/// A Cairn over a fresh data directory; every node it started is killed when it is dropped.
struct Site {
    services: Services,
    scope: Scope,
    dir: tempfile::TempDir,
}

impl Drop for Site {
    fn drop(&mut self) {
        for volume in node_volumes(self.dir.path()) {
            common::kill_node(&volume);
        }
    }
}

/// Every directory under `root` that holds a node's pid file.
fn node_volumes(root: &Path) -> Vec<std::path::PathBuf> {
    let mut volumes = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "node.pid") {
                volumes.push(dir.clone());
            }
        }
    }
    volumes
}

async fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let store = cairn_store::SqlStore::open(&format!(
        "sqlite://{}",
        dir.path().join("cairn.db").display()
    ))
    .await
    .unwrap();
    let engine = LocalEngine::new(
        dir.path().join("regions"),
        Launcher::new(env!("CARGO_BIN_EXE_cairn-node"), &[]),
    );
    let services = Services::builder(
        Arc::new(store),
        Arc::new(SystemClock),
        SiteConfig::default(),
    )
    .engine(Arc::new(engine))
    .build();
    let scope = cairn_core::Scope::trusted(services.start().await.unwrap());
    Site {
        services,
        scope,
        dir,
    }
}

impl Site {
    async fn three_node_cluster(&self) -> Cluster {
        let network = self
            .services
            .list_networks(&self.scope)
            .await
            .unwrap()
            .into_iter()
            .find(|n| n.region == "local-1")
            .unwrap();
        let request = CreateClusterRequest {
            description: "orders".into(),
            network_id: network.id,
            topology: Topology::ThreeNodeMultiZone,
            instance_type: InstanceType::C4,
            disk_size_gb: 8,
            disk_type: "local-ssd".into(),
            server_version: "24.10".into(),
            projection_level: ProjectionLevel::System,
            source_backup_id: None,
            source_backup_project_id: None,
            protected: false,
        };
        let cluster = self
            .services
            .create_cluster(&self.scope, &request)
            .await
            .unwrap();
        self.services.settle().await;
        let cluster = self.cluster(&cluster).await;
        assert_eq!(cluster.status, ClusterStatus::Available);
        cluster
    }

    async fn cluster(&self, cluster: &Cluster) -> Cluster {
        self.services
            .get_cluster(&self.scope, &cluster.id)
            .await
            .unwrap()
    }

    fn volume(&self, cluster: &Cluster, node: usize) -> PathBuf {
        self.dir
            .path()
            .join("regions")
            .join(&cluster.region)
            .join("clusters")
            .join(cluster.id.as_str())
            .join(format!("node-{node}"))
    }

    fn signal(&self, cluster: &Cluster, node: usize, signal: i32) {
        let pid: i32 = std::fs::read_to_string(self.volume(cluster, node).join("node.pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // SAFETY: a plain signal to a node process this test's Cairn started.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    /// Probes (as supervision does every 3 s) until the stored health is `wanted`.
    async fn health_becomes(&self, cluster: &Cluster, wanted: ClusterHealth, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            self.services.probe_clusters().await.unwrap();
            let health = self.cluster(cluster).await.health;
            if health == wanted {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "health stayed {health:?}, not {wanted:?}, for {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A one-off backup, waited for; returns its status and failure reason.
    async fn back_up(&self, cluster: &Cluster) -> (BackupStatus, Option<String>) {
        let backup = self
            .services
            .create_backup(&self.scope, &cluster.id, "one-off")
            .await
            .unwrap();
        self.services.settle().await;
        let backup = self
            .services
            .get_backup(&self.scope, &backup.id)
            .await
            .unwrap();
        (backup.status, backup.failure_reason)
    }
}

fn append(address: &str, n: u64) -> u16 {
    let body = format!(r#"[{{"eventId":"e-{n}","eventType":"Tick","data":{{"n":{n}}}}}]"#);
    http(address, "POST", "/streams/ticks", &body)
        .map(|(status, _)| status)
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_fails_a_backup_defunct_with_the_reason_and_is_brought_back_to_ok() {
    let site = site().await;
    let cluster = site.three_node_cluster().await;
    let leader = cluster.addresses.tcp[0].clone();
    assert_eq!(append(&leader, 1), 201);
    // Every node has the append (a majority acknowledged it; the third follows).
    site.health_becomes(&cluster, ClusterHealth::Ok, Duration::from_secs(5))
        .await;

    site.signal(&cluster, 2, libc::SIGKILL);
    site.health_becomes(&cluster, ClusterHealth::Degraded, Duration::from_secs(5))
        .await;
    let nodes = site
        .services
        .cluster_overview(&site.scope, &cluster.id)
        .await
        .unwrap()
        .nodes;
    let states: Vec<_> = nodes
        .iter()
        .map(|n| (n.role.as_str(), n.healthy, n.detail.as_str()))
        .collect();
    assert_eq!(states[2], ("follower", false, "does not answer"));
    assert_eq!((states[0].0, states[0].1), ("leader", true));
    let (status, reason) = site.back_up(&cluster).await;

    assert_eq!(status, BackupStatus::Defunct);
    assert_eq!(
        reason.as_deref(),
        Some("the cluster is not healthy: node 2 does not answer")
    );
    assert!(site.services.heal_clusters().await.unwrap() >= 1);
    site.health_becomes(&cluster, ClusterHealth::Ok, Duration::from_secs(10))
        .await;
    assert_eq!(site.back_up(&cluster).await.0, BackupStatus::Available);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_follower_falls_behind_on_replication_and_backups_are_refused_until_it_catches_up()
{
    let site = site().await;
    let cluster = site.three_node_cluster().await;
    let leader = cluster.addresses.tcp[0].clone();
    site.signal(&cluster, 1, libc::SIGSTOP);
    let writing = Arc::new(AtomicBool::new(true));
    let writer = std::thread::spawn({
        let (writing, leader) = (writing.clone(), leader.clone());
        move || {
            let mut n = 0;
            while writing.load(Ordering::Relaxed) {
                n += 1;
                assert_eq!(append(&leader, n), 201, "a majority still acknowledges");
            }
            n
        }
    });

    site.health_becomes(&cluster, ClusterHealth::Degraded, Duration::from_secs(10))
        .await;
    let (status, reason) = site.back_up(&cluster).await;

    assert_eq!(status, BackupStatus::Defunct);
    let reason = reason.unwrap();
    assert!(
        reason.starts_with("the cluster is not healthy: node 1 is behind on replication by "),
        "{reason}"
    );
    // Healing leaves a paused node alone: its process is there, a twin would find the volume
    // locked. Once it runs again it catches up, and backups go through.
    site.services.heal_clusters().await.unwrap();
    site.signal(&cluster, 1, libc::SIGCONT);
    writing.store(false, Ordering::Relaxed);
    let appended = writer.join().unwrap();
    assert!(appended > 0);
    site.health_becomes(&cluster, ClusterHealth::Ok, Duration::from_secs(10))
        .await;
    assert_eq!(site.back_up(&cluster).await.0, BackupStatus::Available);
}
