//! Cairn itself killed (SIGKILL) in the middle of a backup, then started again on the same data
//! directory: the backup is defunct with the reason, the cluster's lock is released (a new
//! backup goes through), the nodes kept running with their data, and what the cut-short backup
//! had written to the region's repository is gone.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{files_under, fill, free_port, until, Cairn, Nodes};

async fn count(node: &str) -> u64 {
    let events: Value = reqwest::get(format!("http://{node}/streams/blobs?from=0&count=100000"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    events["events"].as_array().unwrap().len() as u64
}

/// Slow enough to be caught between its first pack and its manifest.
fn slow_backups() -> Vec<(&'static str, String)> {
    vec![("CAIRN_SNAPSHOT_READ_LIMIT", "8MiB".to_owned())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cairn_killed_mid_backup_and_restarted_leaves_it_defunct_unlocked_and_nothing_orphaned() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let _nodes = Nodes(data.clone());
    let port = free_port();
    let mut cairn = Cairn::start(&data, port, &slow_backups()).await;

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
    let events = fill(&node, "blobs", 32 << 20, 0x9E37_79B9_7F4A_7C15).await;

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

    let cairn = Cairn::start(&data, port, &slow_backups()).await;

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
