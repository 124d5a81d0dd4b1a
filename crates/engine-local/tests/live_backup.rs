//! A backup taken while a node takes a steady stream of appends restores to a consistent
//! prefix: exactly the first N events, none torn, N at least what was acknowledged before.

mod common;

use common::{http, start_node};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use cairn_engine_local::log::{EventLog, LogSettings};
use cairn_engine_local::volume::{snapshot_live_volume, LiveSnapshot};
use cairn_snapshot::{InitOptions, OpenOptions, Repository};

fn append(address: &str, n: u64) -> bool {
    let body = format!(
        r#"[{{"eventId":"id-{n}","eventType":"Tick","data":{{"n":{n},"pad":"{}"}}}}]"#,
        "x".repeat(200)
    );
    matches!(http(address, "POST", "/streams/ticks", &body), Ok((201, _)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_during_steady_appends_restores_to_a_consistent_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let volume = dir.path().join("volume");
    let node = start_node(&volume);
    let (stop, acknowledged) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let writer = {
        let (stop, acknowledged, address) =
            (stop.clone(), acknowledged.clone(), node.address.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let n = acknowledged.load(Ordering::SeqCst);
                if append(&address, n) {
                    acknowledged.store(n + 1, Ordering::SeqCst);
                }
            }
        })
    };
    while acknowledged.load(Ordering::SeqCst) < 300 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let repository = Repository::init_url(
        dir.path().join("repo").to_str().unwrap(),
        InitOptions::default(),
        OpenOptions::default(),
    )
    .await
    .unwrap();

    let before = acknowledged.load(Ordering::SeqCst);
    // A pause after each file it reads stretches the backup over many appends: the data read
    // early and the files read late are far apart in time, as on a large volume.
    let summary = snapshot_live_volume(&repository, &volume, LiveSnapshot::default(), |p| {
        if p.files_done > 0 {
            std::thread::sleep(std::time::Duration::from_millis(30));
        }
    })
    .await
    .unwrap();
    let during = acknowledged.load(Ordering::SeqCst);
    while acknowledged.load(Ordering::SeqCst) < during + 50 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    drop(node);

    let restored = dir.path().join("restored");
    repository
        .restore(&summary.id, &restored, |_| {})
        .await
        .unwrap();
    let settings = LogSettings {
        chunk_size: 65536,
        quota: u64::MAX,
    };
    let copy = EventLog::open(&restored, settings).unwrap();
    let source = EventLog::open(&volume, settings).unwrap();
    let held = copy.stream_length("ticks");
    assert!(
        held >= before,
        "the snapshot holds what was acknowledged before it began: {held} < {before}"
    );
    assert!(
        held <= during + 1,
        "and nothing acknowledged after it ended: {held} > {during}"
    );
    assert!(source.stream_length("ticks") > held, "the source went on");
    assert!(
        during - before > 20,
        "appends went on during the backup: {before}..{during}"
    );
    let expected = source.read_stream("ticks", 0, held as usize).unwrap();
    assert_eq!(
        copy.read_stream("ticks", 0, held as usize + 10).unwrap(),
        expected
    );
}
