//! The node's event log: appends come back in order, survive reopening and crashes (whatever
//! lies past the checkpoint is cut), roll over chunk files, and respect the volume's quota.

use std::path::Path;

use cairn_engine_local::log::{EventLog, LogError, LogSettings, NewEvent, CHECKPOINT};
use serde_json::json;

fn settings() -> LogSettings {
    LogSettings {
        chunk_size: 64 * 1024,
        quota: 64 << 20,
    }
}

fn event(n: u64) -> NewEvent {
    NewEvent {
        event_id: format!("00000000-0000-4000-8000-{n:012}"),
        event_type: "ItemAdded".into(),
        data: json!({ "n": n, "sku": format!("SKU-{n:05}"), "note": "x".repeat((n % 50) as usize) }),
        metadata: json!({ "$correlationId": n }),
    }
}

fn fill(log: &mut EventLog, streams: u64, per_stream: u64) {
    for round in 0..per_stream {
        for s in 0..streams {
            log.append(&format!("order-{s}"), &[event(round * streams + s)])
                .unwrap();
        }
    }
}

fn chunk_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("chunk-"))
        .collect();
    names.sort();
    names
}

#[test]
fn events_read_back_in_order_per_stream_with_their_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = EventLog::open(dir.path(), settings()).unwrap();
    fill(&mut log, 10, 20);

    for s in 0..10 {
        let events = log.read_stream(&format!("order-{s}"), 0, 1000).unwrap();
        assert_eq!(events.len(), 20);
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e.event_number, i as u64);
            assert_eq!(e.data["n"], json!(i as u64 * 10 + s));
        }
    }
    let page = log.read_stream("order-3", 5, 3).unwrap();
    assert_eq!(
        page.iter().map(|e| e.event_number).collect::<Vec<_>>(),
        vec![5, 6, 7]
    );
    assert!(log.read_stream("no-such-stream", 0, 10).unwrap().is_empty());
}

#[test]
fn a_reopened_log_holds_the_same_events_across_several_chunk_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = EventLog::open(dir.path(), settings()).unwrap();
    fill(&mut log, 7, 200);
    let before: Vec<_> = (0..7)
        .map(|s| log.read_stream(&format!("order-{s}"), 0, 10_000).unwrap())
        .collect();
    let end = log.end();
    drop(log);

    let log = EventLog::open(dir.path(), settings()).unwrap();
    assert!(
        chunk_files(dir.path()).len() >= 3,
        "{:?}",
        chunk_files(dir.path())
    );
    assert_eq!(log.end(), end);
    let after: Vec<_> = (0..7)
        .map(|s| log.read_stream(&format!("order-{s}"), 0, 10_000).unwrap())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn whatever_lies_past_the_checkpoint_is_cut_when_the_log_opens() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = EventLog::open(dir.path(), settings()).unwrap();
    fill(&mut log, 3, 100);
    let checkpoint = std::fs::read(dir.path().join(CHECKPOINT)).unwrap();
    // A crash after the data but before the checkpoint: more events written, checkpoint old...
    fill(&mut log, 3, 100);
    drop(log);
    std::fs::write(dir.path().join(CHECKPOINT), &checkpoint).unwrap();
    // ...and a torn record at the very end.
    let last = dir.path().join(chunk_files(dir.path()).last().unwrap());
    let mut bytes = std::fs::read(&last).unwrap();
    bytes.extend_from_slice(&[0x55; 37]);
    std::fs::write(&last, bytes).unwrap();

    let mut log = EventLog::open(dir.path(), settings()).unwrap();
    for s in 0..3 {
        assert_eq!(log.stream_length(&format!("order-{s}")), 100);
    }
    log.append("order-0", &[event(9_999)]).unwrap();
    drop(log);
    let log = EventLog::open(dir.path(), settings()).unwrap();
    let events = log.read_stream("order-0", 100, 10).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data["n"], json!(9_999));
}

#[test]
fn a_copy_taken_checkpoint_first_while_appends_go_on_opens_to_exactly_the_events_at_that_checkpoint(
) {
    let dir = tempfile::tempdir().unwrap();
    let (live, copy) = (dir.path().join("live"), dir.path().join("copy"));
    let mut log = EventLog::open(&live, settings()).unwrap();
    fill(&mut log, 5, 100);
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::copy(live.join(CHECKPOINT), copy.join(CHECKPOINT)).unwrap();
    let at_checkpoint = log.stream_length("order-2");
    fill(&mut log, 5, 50); // the node keeps taking writes while the copy is made
    for name in chunk_files(&live) {
        std::fs::copy(live.join(&name), copy.join(&name)).unwrap();
    }

    let restored = EventLog::open(&copy, settings()).unwrap();
    assert_eq!(restored.stream_length("order-2"), at_checkpoint);
    assert_eq!(log.stream_length("order-2"), at_checkpoint + 50);
    assert_eq!(
        restored.read_stream("order-2", 0, 1000).unwrap(),
        log.read_stream("order-2", 0, at_checkpoint as usize)
            .unwrap()
    );
}

#[test]
fn an_append_past_the_quota_is_refused_whole_and_the_log_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = EventLog::open(
        dir.path(),
        LogSettings {
            chunk_size: 64 * 1024,
            quota: 100 * 1024,
        },
    )
    .unwrap();
    let mut n = 0;
    let error = loop {
        let batch: Vec<NewEvent> = (0..10).map(|i| event(n * 10 + i)).collect();
        match log.append("big", &batch) {
            Ok(_) => n += 1,
            Err(error) => break error,
        }
    };
    let (end, length, used) = (log.end(), log.stream_length("big"), log.used());

    assert!(
        matches!(error, LogError::QuotaExceeded { quota: 102_400, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("nothing was written"));
    assert_eq!(length, n * 10, "no event of the refused batch was kept");
    assert!(used <= 100 * 1024);
    assert_eq!(
        log.read_stream("big", 0, 100_000).unwrap().len() as u64,
        length
    );
    drop(log);
    let mut log = EventLog::open(
        dir.path(),
        LogSettings {
            chunk_size: 64 * 1024,
            quota: 100 * 1024,
        },
    )
    .unwrap();
    assert_eq!((log.end(), log.stream_length("big")), (end, length));
    log.set_quota(200 * 1024);
    log.append("big", &[event(1)]).unwrap();
}

#[test]
fn a_damaged_record_before_the_checkpoint_is_an_error_naming_the_chunk_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = EventLog::open(dir.path(), settings()).unwrap();
    fill(&mut log, 2, 10);
    drop(log);
    let first = dir.path().join(chunk_files(dir.path())[0].clone());
    let mut bytes = std::fs::read(&first).unwrap();
    bytes[300] ^= 0xff;
    std::fs::write(&first, bytes).unwrap();

    let error = EventLog::open(dir.path(), settings()).unwrap_err();

    let message = error.to_string();
    assert!(
        message.contains("chunk-000000.000000") && message.contains("position"),
        "{message}"
    );
}

#[test]
fn events_without_a_type_or_id_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = EventLog::open(dir.path(), settings()).unwrap();
    let mut bad = event(1);
    bad.event_type.clear();

    let error = log.append("s", &[event(0), bad]).unwrap_err();

    assert!(error.to_string().contains("eventType"), "{error}");
    assert_eq!(log.end(), 0);
    assert_eq!(log.stream_length("s"), 0);
    assert!(matches!(
        log.append("", &[event(0)]),
        Err(LogError::InvalidEvent(_))
    ));
}

#[test]
fn a_volume_opened_by_one_log_is_refused_to_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let first = EventLog::open(dir.path(), settings()).unwrap();

    let second = EventLog::open(dir.path(), settings()).unwrap_err();

    assert!(matches!(second, LogError::VolumeInUse(_)), "{second}");
    assert!(second.to_string().contains("in use by another node"));
    drop(first);
    EventLog::open(dir.path(), settings()).unwrap();
}
