//! The `Engine` port on real processes: provision, snapshot a live cluster, restore into a new
//! cluster of another topology, refuse a backup of an unhealthy cluster, delete.

mod common;

use std::sync::Arc;

use cairn_core::ports::{ClusterChange, Engine, EngineError};
use cairn_engine_local::cluster::Launcher;
use cairn_engine_local::engine::LocalEngine;
use cairn_model::*;
use common::{http, numbers};
use serde_json::Value;

const SOURCE: &str = "c1ev3l5o0aeu6ojco7b0";
const TARGET: &str = "c1eut65o0aeu6ojco7a0";
const BACKUP: &str = "c10d0h2rh41lba1v92k0";

fn cluster(id: &str, topology: Topology) -> Cluster {
    Cluster {
        id: ClusterId::parse(id).unwrap(),
        organization_id: OrganizationId::parse(SOURCE).unwrap(),
        project_id: ProjectId::parse(SOURCE).unwrap(),
        network_id: NetworkId::parse(SOURCE).unwrap(),
        description: format!("cluster {id}"),
        provider: "local".into(),
        region: "local-1".into(),
        topology,
        instance_type: InstanceType::F1,
        disk_size_gb: 8,
        disk_type: "local".into(),
        server_version: "24.10".into(),
        server_version_tag: "24.10.0".into(),
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
    Backup {
        id: BackupId::parse(BACKUP).unwrap(),
        project_id: cluster.project_id.clone(),
        description: "before the migration".into(),
        source_cluster_id: cluster.id.clone(),
        source_cluster_description: cluster.description.clone(),
        provider: cluster.provider.clone(),
        region: cluster.region.clone(),
        server_version: cluster.server_version.clone(),
        server_version_tag: cluster.server_version_tag.clone(),
        size_gb: cluster.disk_size_gb,
        available_node_count: 0,
        status: BackupStatus::Creating,
        created: chrono::Utc::now(),
        linked_resource: None,
        bytes_stored: None,
        bytes_new: None,
        file_count: None,
        checksum: None,
        progress: None,
        failure_reason: None,
        finished: None,
        contents: None,
        verification: None,
        source_shape: None,
        created_by: None,
    }
}

fn engine(root: &std::path::Path) -> LocalEngine {
    LocalEngine::new(root, Launcher::new(env!("CARGO_BIN_EXE_cairn-node"), &[]))
}

/// Appends `per_stream` events to each of `streams` streams, numbered from `from`.
fn append_round(leader: &str, streams: u64, from: u64, per_stream: u64) {
    for s in 0..streams {
        let events: Vec<Value> = (from..from + per_stream)
            .map(|n| serde_json::json!({ "eventId": format!("{s}-{n}"), "eventType": "Tick", "data": { "n": n } }))
            .collect();
        let (status, body) = http(
            leader,
            "POST",
            &format!("/streams/s-{s}"),
            &Value::Array(events).to_string(),
        )
        .unwrap();
        assert_eq!(status, 201, "{body}");
    }
}

/// Every node's log of the source cluster, for a failure's message.
fn node_logs(root: &std::path::Path) -> String {
    (0..3)
        .map(|node| {
            let path = root
                .join("local-1/clusters")
                .join(SOURCE)
                .join(format!("node-{node}/node.log"));
            let log = std::fs::read_to_string(&path).unwrap_or_default();
            format!("--- node {node} ---\n{log}")
        })
        .collect()
}

/// Stops every cluster's nodes even when a test fails half-way.
struct Teardown<'a>(&'a LocalEngine, Vec<Cluster>);

impl Drop for Teardown<'_> {
    fn drop(&mut self) {
        for cluster in &self.1 {
            let root = self
                .0
                .root()
                .join(&cluster.region)
                .join("clusters")
                .join(cluster.id.as_str());
            for node in 0..3 {
                common::kill_node(&root.join(format!("node-{node}")));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_node_cluster_restored_into_a_single_node_holds_exactly_what_was_backed_up() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let (source, target) = (
        cluster(SOURCE, Topology::ThreeNodeMultiZone),
        cluster(TARGET, Topology::SingleNode),
    );
    let _teardown = Teardown(&engine, vec![source.clone(), target.clone()]);

    let addresses = engine.provision(&source, None).await.unwrap();
    assert_eq!(addresses.tcp.len(), 3);
    let leader = addresses.tcp[0].clone();
    append_round(&leader, 100, 0, 100); // 10 000 events across 100 streams
    let backup = backup_of(&source);
    let facts = engine
        .snapshot(&source, &backup, Arc::new(|_| {}))
        .await
        .unwrap();
    append_round(&leader, 100, 100, 10); // 1 000 more after the backup

    assert_eq!(facts.available_node_count, 3);
    let recorded = facts
        .contents
        .expect("the snapshot's contents are recorded");
    assert_eq!(recorded.event_count, 10_000);
    assert_eq!(facts.checksum.len(), 64);
    assert!(facts.file_count >= 2 && facts.bytes_new > 0);
    let restored = engine.provision(&target, Some(&backup)).await.unwrap();
    assert_eq!(restored.tcp.len(), 1);
    for s in [0, 42, 99] {
        let stream = format!("s-{s}");
        assert_eq!(
            numbers(&restored.tcp[0], &stream),
            (0..100).collect::<Vec<_>>(),
            "{stream}"
        );
        assert_eq!(
            numbers(&leader, &stream),
            (0..110).collect::<Vec<_>>(),
            "{stream}"
        );
    }
    let total: usize = (0..100)
        .map(|s| numbers(&restored.tcp[0], &format!("s-{s}")).len())
        .sum();
    assert_eq!(total, 10_000);
    assert_eq!(engine.contents(&target).await.unwrap(), Some(recorded));
    assert_eq!(
        engine.contents(&source).await.unwrap().unwrap().event_count,
        11_000
    );

    engine.apply(&source, &ClusterChange::Delete).await.unwrap();
    engine.apply(&target, &ClusterChange::Delete).await.unwrap();
    assert!(!dir.path().join("local-1/clusters").join(SOURCE).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_cluster_with_a_dead_node_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let source = cluster(SOURCE, Topology::ThreeNodeMultiZone);
    let _teardown = Teardown(&engine, vec![source.clone()]);
    engine.provision(&source, None).await.unwrap();
    let pid = std::fs::read_to_string(
        dir.path()
            .join("local-1/clusters")
            .join(SOURCE)
            .join("node-1/node.pid"),
    )
    .unwrap();
    std::process::Command::new("kill")
        .args(["-9", pid.trim()])
        .status()
        .unwrap();

    let error = engine
        .snapshot(&source, &backup_of(&source), Arc::new(|_| {}))
        .await
        .unwrap_err();

    assert_eq!(
        error,
        EngineError::Unhealthy("node 1 does not answer".into())
    );
    engine.apply(&source, &ClusterChange::Delete).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_backups_snapshot_finds_it_by_the_backup_id() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let source = cluster(SOURCE, Topology::SingleNode);
    let _teardown = Teardown(&engine, vec![source.clone()]);
    let leader = engine.provision(&source, None).await.unwrap().tcp[0].clone();
    append_round(&leader, 3, 0, 5);
    let backup = backup_of(&source);
    engine
        .snapshot(&source, &backup, Arc::new(|_| {}))
        .await
        .unwrap();

    engine.delete_snapshot(&backup).await.unwrap();

    let error = engine
        .provision(&cluster(TARGET, Topology::SingleNode), Some(&backup))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("no snapshot of backup"),
        "{error}"
    );
    engine.apply(&source, &ClusterChange::Delete).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_comes_from_probes_and_resume_brings_a_killed_node_back() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let source = cluster(SOURCE, Topology::ThreeNodeMultiZone);
    let _teardown = Teardown(&engine, vec![source.clone()]);
    engine.provision(&source, None).await.unwrap();
    assert_eq!(engine.health(&source).await.unwrap(), ClusterHealth::Ok);
    let volume = dir
        .path()
        .join("local-1/clusters")
        .join(SOURCE)
        .join("node-2");
    let pid = std::fs::read_to_string(volume.join("node.pid")).unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-9", pid.trim()])
        .status()
        .unwrap();
    if !killed.success() {
        // Seen once in CI: the node was gone already. Its log says why; resume must still
        // bring it back.
        eprintln!(
            "node 2 had stopped before it was killed:\n{}",
            node_logs(dir.path())
        );
    }
    // SIGKILL is not instant: a thread of the node still in a disk write keeps its volume
    // lock (and its port) until the write ends. Seen in CI: resume came first, rightly
    // adopted a node that still held its volume, and nobody started it after it went.
    // "A node died" is the state this test is about, so wait for it.
    let gone = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !cairn_engine_local::cluster::volume_is_free(&volume) {
        assert!(
            std::time::Instant::now() < gone,
            "node 2 still holds its volume 30 s after kill -9"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    assert_eq!(
        engine.health(&source).await.unwrap(),
        ClusterHealth::Degraded
    );
    engine.resume(&source).await.unwrap();

    // The leader learns its follower is back within a replication round or two; on a loaded
    // machine that can outlast resume's own short wait.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while engine.health(&source).await.unwrap() != ClusterHealth::Ok {
        assert!(
            std::time::Instant::now() < deadline,
            "still not healthy 30 s after resume: {:?}\n{}",
            engine.nodes(&source).await,
            node_logs(dir.path())
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    engine.apply(&source, &ClusterChange::Delete).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_that_fails_part_way_leaves_a_cluster_that_can_be_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let (source, target) = (
        cluster(SOURCE, Topology::SingleNode),
        cluster(TARGET, Topology::ThreeNodeMultiZone),
    );
    let _teardown = Teardown(&engine, vec![source.clone(), target.clone()]);
    let leader = engine.provision(&source, None).await.unwrap().tcp[0].clone();
    append_round(&leader, 10, 0, 20);
    let mut backup = backup_of(&source);
    let facts = engine
        .snapshot(&source, &backup, Arc::new(|_| {}))
        .await
        .unwrap();
    backup.checksum = Some(facts.checksum);
    // The repository loses its packs: the restore fails after the cluster got its place.
    for pack in common::files_under(&dir.path().join("local-1/snapshots/packs")) {
        std::fs::remove_file(pack).unwrap();
    }

    let error = engine.provision(&target, Some(&backup)).await.unwrap_err();
    assert!(
        error.to_string().contains("restoring the backup"),
        "{error}"
    );

    engine.apply(&target, &ClusterChange::Delete).await.unwrap();
    assert!(!dir.path().join("local-1/clusters").join(TARGET).exists());
    engine.apply(&source, &ClusterChange::Delete).await.unwrap();
}
