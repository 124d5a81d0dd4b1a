//! The repository's promises, on a local directory: round trips keep every byte and every bit of
//! metadata, dedup stores only what is new, damage is found and named, and gc never deletes
//! what a snapshot needs.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use cairn_snapshot::{Error, InitOptions, Key, OpenOptions, Repository, VerifyMode};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_tree_is_byte_identical_with_modes_times_and_links_kept() {
    let dir = tempfile::tempdir().unwrap();
    round_trip(local(&dir.path().join("repo")), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_repository_round_trips_and_keeps_no_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let (source, target) = (dir.path().join("source"), dir.path().join("target"));
    make_tree(&source, 2);
    let key_file = dir.path().join("repo.key");
    let init = InitOptions {
        key_file: Some(key_file.clone()),
        ..small_init()
    };
    let repo = Repository::init(local(&dir.path().join("repo")), init, quick_open())
        .await
        .unwrap();

    let summary = repo.backup(&source, |_| {}).await.unwrap();
    repo.restore(&summary.id, &target, |_| {}).await.unwrap();
    assert_eq!(describe(&target), describe(&source));

    // The text files are JSON events; none of their words may appear in the repository.
    let mut stored = Vec::new();
    for path in walk_files(&dir.path().join("repo")) {
        stored.extend(std::fs::read(path).unwrap());
    }
    assert!(
        !stored.windows(8).any(|w| w == b"ItemAdde"),
        "plaintext found in an encrypted repository"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_missing_key_is_a_clear_error_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("repo.key");
    let init = InitOptions {
        key_file: Some(key_file.clone()),
        ..small_init()
    };
    Repository::init(local(&dir.path().join("repo")), init, quick_open())
        .await
        .unwrap();

    let other = dir.path().join("other.key");
    Key::create(&other).unwrap();
    let wrong = OpenOptions {
        key_file: Some(other.clone()),
        ..quick_open()
    };
    let error = Repository::open(local(&dir.path().join("repo")), wrong)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::WrongKey(path) if *path == other),
        "{error}"
    );

    std::fs::remove_file(&key_file).unwrap();
    let error = Repository::open(local(&dir.path().join("repo")), quick_open())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::KeyRequired), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_snapshot_of_an_unchanged_tree_stores_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    make_tree(&source, 3);
    let repo = new_repo(&dir.path().join("repo")).await;

    let first = repo.backup(&source, |_| {}).await.unwrap();
    let second = repo.backup(&source, |_| {}).await.unwrap();

    assert!(first.new_bytes > 900_000);
    assert_eq!(second.new_bytes, 0);
    assert_eq!(second.stored_bytes, 0);
    assert_ne!(
        first.id, second.id,
        "each snapshot is its own, even when the content is the same"
    );
    assert_eq!(repo.list().await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appending_one_percent_to_a_large_file_stores_about_that_plus_a_chunk_or_two() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    std::fs::create_dir_all(&source).unwrap();
    let file = source.join("chunk-000000.000000");
    std::fs::write(&file, content(7, 16 << 20, false)).unwrap();
    let repo = new_repo(&dir.path().join("repo")).await;
    repo.backup(&source, |_| {}).await.unwrap();

    let appended = content(8, (16 << 20) / 100, false);
    let mut content = std::fs::read(&file).unwrap();
    content.extend_from_slice(&appended);
    std::fs::write(&file, content).unwrap();
    let second = repo.backup(&source, |_| {}).await.unwrap();

    let max_chunk = small_init().chunker.max_size as u64;
    assert!(second.new_bytes >= appended.len() as u64);
    assert!(
        second.new_bytes <= appended.len() as u64 + 2 * max_chunk,
        "appending {} bytes stored {} new bytes",
        appended.len(),
        second.new_bytes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_non_empty_target_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (source, target) = (dir.path().join("source"), dir.path().join("target"));
    make_tree(&source, 4);
    let repo = new_repo(&dir.path().join("repo")).await;
    let summary = repo.backup(&source, |_| {}).await.unwrap();
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("precious"), b"keep me").unwrap();

    let error = repo
        .restore(&summary.id, &target, |_| {})
        .await
        .unwrap_err();

    assert!(matches!(error, Error::TargetNotEmpty(_)), "{error}");
    assert_eq!(std::fs::read(target.join("precious")).unwrap(), b"keep me");
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_into_an_existing_empty_directory_works() {
    let dir = tempfile::tempdir().unwrap();
    let (source, target) = (dir.path().join("source"), dir.path().join("target"));
    make_tree(&source, 5);
    let repo = new_repo(&dir.path().join("repo")).await;
    let summary = repo.backup(&source, |_| {}).await.unwrap();
    std::fs::create_dir_all(&target).unwrap();

    repo.restore(&summary.id, &target, |_| {}).await.unwrap();

    assert_eq!(describe(&target), describe(&source));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_reported_up_to_the_total() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    make_tree(&source, 6);
    let repo = new_repo(&dir.path().join("repo")).await;
    let (done, total) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (d, t) = (done.clone(), total.clone());

    let summary = repo
        .backup(&source, move |p| {
            assert!(p.bytes_done <= p.bytes_total);
            d.store(p.bytes_done, Ordering::SeqCst);
            t.store(p.bytes_total, Ordering::SeqCst);
        })
        .await
        .unwrap();

    assert_eq!(done.load(Ordering::SeqCst), summary.bytes);
    assert_eq!(total.load(Ordering::SeqCst), summary.bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_flipped_byte_anywhere_fails_restore_and_verify_with_the_damage_named() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    make_tree(&source, 9);
    let repo_dir = dir.path().join("repo");
    let id = new_repo(&repo_dir)
        .await
        .backup(&source, |_| {})
        .await
        .unwrap()
        .id;
    let objects = walk_files(&repo_dir);
    assert!(
        objects.len() > 10,
        "several packs, indexes, a manifest and the config"
    );

    let mut tried = 0;
    let mut harmless = 0;
    for object in &objects {
        let original = std::fs::read(object).unwrap();
        let name = object
            .strip_prefix(&repo_dir)
            .unwrap()
            .display()
            .to_string();
        for at in [
            0,
            original.len() / 3,
            original.len() / 2,
            original.len() - 1,
        ] {
            let mut damaged = original.clone();
            damaged[at] ^= 0x20;
            std::fs::write(object, &damaged).unwrap();
            tried += 1;

            let outcome = match Repository::open(local(&repo_dir), quick_open()).await {
                Err(error) => {
                    assert_eq!(
                        name, "config",
                        "only a damaged config fails at open: {error}"
                    );
                    assert!(error.to_string().contains("config"), "{error}");
                    None
                }
                Ok(repo) => {
                    let target = dir.path().join(format!("target-{tried}"));
                    let restore = repo.restore(&id, &target, |_| {}).await;
                    if restore.is_ok() {
                        // A flip that changes no chunk's content (a bit of a zstd frame header
                        // that decodes the same) passes every chunk's hash check: such a
                        // restore must give back exactly the source, which it does.
                        assert_eq!(
                            describe(&target),
                            describe(&source),
                            "{name}@{at}: a restore from damaged data gave other data"
                        );
                        harmless += 1;
                        std::fs::remove_dir_all(&target).unwrap();
                        std::fs::write(object, &original).unwrap();
                        continue;
                    }
                    assert!(
                        !target.exists(),
                        "{name}@{at}: a failed restore left files behind"
                    );
                    let verify = repo.verify(&id, VerifyMode::ReadAll).await;
                    let check = repo.check(true).await.unwrap();
                    Some((restore, verify, check))
                }
            };
            if let Some((restore, verify, check)) = outcome {
                let restore =
                    restore.expect_err(&format!("{name}@{at}: restore succeeded on damage"));
                let verify = verify.expect_err(&format!("{name}@{at}: verify succeeded on damage"));
                for message in [restore.to_string(), verify.to_string()] {
                    let named = ["pack ", "index ", "snapshot "]
                        .iter()
                        .any(|what| message.contains(what));
                    assert!(
                        named,
                        "{name}@{at}: the error does not name what is damaged: {message}"
                    );
                }
                assert!(!check.is_clean(), "{name}@{at}: check found nothing");
            }
            std::fs::write(object, &original).unwrap();
        }
    }
    let repo = Repository::open(local(&repo_dir), quick_open())
        .await
        .unwrap();
    repo.verify(&id, VerifyMode::ReadAll)
        .await
        .expect("undamaged again");
    assert!(tried >= 40);
    assert!(
        harmless * 10 <= tried,
        "{harmless} of {tried} flips went unnoticed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sampled_verify_reads_part_of_the_chunks_and_a_full_one_all() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    make_tree(&source, 10);
    let repo = new_repo(&dir.path().join("repo")).await;
    let summary = repo.backup(&source, |_| {}).await.unwrap();

    let all = repo.verify(&summary.id, VerifyMode::ReadAll).await.unwrap();
    let none = repo
        .verify(&summary.id, VerifyMode::Sample { percent: 0 })
        .await
        .unwrap();
    let every = repo
        .verify(&summary.id, VerifyMode::Sample { percent: 100 })
        .await
        .unwrap();

    assert_eq!(all.bytes_checked, summary.bytes);
    assert_eq!(none.chunks_checked, 0);
    assert!(every.chunks_checked > 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_frees_what_deleted_snapshots_alone_used_and_keeps_the_rest_restorable() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    make_tree(&a, 11);
    make_tree(&b, 12);
    let repo_dir = dir.path().join("repo");
    let repo = new_repo(&repo_dir).await;
    let first = repo.backup(&a, |_| {}).await.unwrap();
    let second = repo.backup(&b, |_| {}).await.unwrap();
    let before = dir_size(&repo_dir);

    repo.delete(&first.id).await.unwrap();
    let report = repo.gc().await.unwrap();

    assert!(report.deleted_packs + report.repacked_packs > 0);
    assert!(
        dir_size(&repo_dir) < before * 2 / 3,
        "{} -> {}",
        before,
        dir_size(&repo_dir)
    );
    let target = dir.path().join("target");
    repo.restore(&second.id, &target, |_| {}).await.unwrap();
    assert_eq!(describe(&target), describe(&b));
    let check = repo.check(true).await.unwrap();
    assert!(check.is_clean() && check.notes.is_empty(), "{check:?}");
    assert!(
        repo.gc_plan().await.unwrap().is_empty(),
        "a second gc has nothing to do"
    );
    assert!(matches!(
        repo.delete(&first.id).await,
        Err(Error::SnapshotNotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_does_not_run_while_a_backup_is_between_its_packs_and_its_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    make_tree(&source, 13);
    let repo_dir = dir.path().join("repo");
    new_repo(&repo_dir).await;
    let gated = Arc::new(TestStorage::gated(local(&repo_dir)));
    let backing_up = Repository::open(gated.clone(), quick_open()).await.unwrap();
    let backup = tokio::spawn(async move { backing_up.backup(&source, |_| {}).await });
    gated.arrived.notified().await;

    let collector = Repository::open(local(&repo_dir), quick_open())
        .await
        .unwrap();
    let refused = collector.gc().await.unwrap_err();
    assert!(
        matches!(&refused, Error::Locked(holder) if holder.contains("backup")),
        "{refused}"
    );

    gated.open_gate();
    let summary = backup.await.unwrap().unwrap();
    collector.gc().await.unwrap();
    collector
        .verify(&summary.id, VerifyMode::ReadAll)
        .await
        .unwrap();
}

/// Lock settings for a party that waits for others instead of giving up at once.
fn patient_open() -> OpenOptions {
    OpenOptions {
        locks: cairn_snapshot::LockSettings {
            wait: std::time::Duration::from_secs(30),
            ..Default::default()
        },
        ..quick_open()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_given_up_on_keeps_gc_out_until_its_last_upload_has_landed() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    make_tree(&source, 21);
    let repo_dir = dir.path().join("repo");
    let repo = new_repo(&repo_dir).await;
    // The backup's first pack lands; the index naming it waits at the gate.
    let gated = Arc::new(TestStorage::gated_on(local(&repo_dir), &["index/"]));
    let backing_up = Repository::open(gated.clone(), quick_open()).await.unwrap();
    let given_up = source.clone();
    let backup = tokio::spawn(async move { backing_up.backup(&given_up, |_| {}).await });
    gated.arrived.notified().await;
    // Its caller gives up (a deadline passed): the backup's future is dropped.
    backup.abort();
    assert!(backup.await.unwrap_err().is_cancelled());

    let collector = Repository::open(local(&repo_dir), patient_open())
        .await
        .unwrap();
    let gc = tokio::spawn(async move { collector.gc().await });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !gc.is_finished(),
        "gc ran while the given-up backup still had an index on its way"
    );
    gated.open_gate();
    gc.await.unwrap().unwrap();

    // Whatever the given-up backup left is collected or whole: the next backup restores,
    // and gc's own invariant (every needed chunk in an existing pack) holds.
    let summary = repo.backup(&source, |_| {}).await.unwrap();
    repo.gc_plan().await.unwrap();
    let target = dir.path().join("target");
    repo.restore(&summary.id, &target, |_| {}).await.unwrap();
    assert_eq!(describe(&target), describe(&source));
    assert!(repo.check(true).await.unwrap().is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_stores_again_the_chunks_of_an_index_entry_whose_pack_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    make_tree(&source, 22);
    let repo_dir = dir.path().join("repo");
    let repo = new_repo(&repo_dir).await;
    repo.backup(&source, |_| {}).await.unwrap();
    // A pack lost while its index stayed (what gc racing an unlocked writer used to leave).
    let lost = walk_files(&repo_dir.join("packs"))
        .into_iter()
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    std::fs::remove_file(&lost).unwrap();

    let again = repo.backup(&source, |_| {}).await.unwrap();
    assert!(again.new_bytes > 0, "the lost pack's chunks were trusted");
    let target = dir.path().join("target");
    repo.restore(&again.id, &target, |_| {}).await.unwrap();
    assert_eq!(describe(&target), describe(&source));
    repo.verify(&again.id, VerifyMode::ReadAll).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_waits_for_a_running_gc_and_then_goes_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    make_tree(&source, 14);
    let repo_dir = dir.path().join("repo");
    let repo = new_repo(&repo_dir).await;
    let gated = Arc::new(TestStorage::gated(local(&repo_dir)));
    // A deleted snapshot gives gc packs to rewrite; the gate holds it at its first pack write.
    let old = repo.backup(&source, |_| {}).await.unwrap();
    std::fs::write(
        source.join("chunks/chunk-000001.000000"),
        content(99, 300_000, false),
    )
    .unwrap();
    repo.backup(&source, |_| {}).await.unwrap();
    repo.delete(&old.id).await.unwrap();
    let collecting = Repository::open(gated.clone(), quick_open()).await.unwrap();
    let gc = tokio::spawn(async move { collecting.gc().await });
    gated.arrived.notified().await;

    let patient = OpenOptions {
        locks: cairn_snapshot::LockSettings {
            wait: std::time::Duration::from_secs(30),
            ..Default::default()
        },
        ..quick_open()
    };
    let backing_up = Repository::open(local(&repo_dir), patient).await.unwrap();
    let backup = tokio::spawn(async move { backing_up.backup(&source, |_| {}).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!backup.is_finished(), "the backup went ahead during gc");

    gated.open_gate();
    gc.await.unwrap().unwrap();
    let summary = backup.await.unwrap().unwrap();
    repo.verify(&summary.id, VerifyMode::ReadAll).await.unwrap();
    assert!(repo.check(true).await.unwrap().is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_an_empty_place_says_there_is_no_repository_and_init_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let error = Repository::open(local(dir.path()), quick_open())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotARepository(_)), "{error}");
    new_repo(dir.path()).await;
    let error = Repository::init(local(dir.path()), small_init(), quick_open())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::AlreadyExists(_)), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_are_found_by_a_short_id_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    make_tree(&source, 15);
    let repo = new_repo(&dir.path().join("repo")).await;
    let summary = repo.backup(&source, |_| {}).await.unwrap();

    assert_eq!(repo.resolve(&summary.id.short()).await.unwrap(), summary.id);
    assert!(
        matches!(
            repo.resolve("ffffffff").await,
            Err(Error::SnapshotNotFound(_))
        ) || summary.id.short() == "ffffffff"
    );
    assert!(matches!(
        repo.resolve("ab").await,
        Err(Error::SnapshotNotFound(_))
    ));
}

pub fn walk_files(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn dir_size(root: &std::path::Path) -> u64 {
    walk_files(root)
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_unchanged_since_the_last_snapshot_are_not_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    make_tree(&source, 16);
    let repo = new_repo(&dir.path().join("repo")).await;
    repo.backup(&source, |_| {}).await.unwrap();

    std::fs::write(source.join("run.sh"), b"#!/bin/sh\necho changed\n").unwrap();
    let second = repo.backup(&source, |_| {}).await.unwrap();
    let forced = repo
        .backup_with(
            &source,
            cairn_snapshot::BackupOptions {
                force_read: true,
                ..Default::default()
            },
            |_| {},
        )
        .await
        .unwrap();

    assert_eq!(second.stats.unchanged_files, 5, "all but run.sh");
    assert_eq!(second.files, 6);
    assert_eq!(second.bytes, forced.bytes);
    assert_eq!(forced.stats.unchanged_files, 0);
    let target = dir.path().join("target");
    repo.restore(&second.id, &target, |_| {}).await.unwrap();
    assert_eq!(describe(&target), describe(&source));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_rewritten_with_its_old_size_and_mtime_is_still_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    make_tree(&source, 17);
    let file = source.join("chunks/chunk-000000.000000");
    let repo = new_repo(&dir.path().join("repo")).await;
    repo.backup(&source, |_| {}).await.unwrap();

    // Same length, mtime put back: only the change time (and the content) tell.
    let mtime = filetime::FileTime::from_last_modification_time(&std::fs::metadata(&file).unwrap());
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&file, content(18, 700_000, true)).unwrap();
    filetime::set_file_mtime(&file, mtime).unwrap();
    let second = repo.backup(&source, |_| {}).await.unwrap();

    assert_eq!(second.stats.unchanged_files, 5);
    let target = dir.path().join("target");
    repo.restore(&second.id, &target, |_| {}).await.unwrap();
    assert_eq!(describe(&target), describe(&source));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_to_read_first_are_kept_like_any_other_and_a_missing_one_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    make_tree(&source, 19);
    let repo = new_repo(&dir.path().join("repo")).await;
    let first = |paths: &[&str]| cairn_snapshot::BackupOptions {
        read_first: paths.iter().map(|p| p.to_string()).collect(),
        ..Default::default()
    };

    let summary = repo
        .backup_with(&source, first(&["index.chk"]), |_| {})
        .await
        .unwrap();
    let error = repo
        .backup_with(&source, first(&["no-such.chk"]), |_| {})
        .await
        .unwrap_err();

    assert_eq!(summary.files, 6);
    let target = dir.path().join("target");
    repo.restore(&summary.id, &target, |_| {}).await.unwrap();
    assert_eq!(describe(&target), describe(&source));
    assert!(error.to_string().contains("no-such.chk"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_labelled_snapshot_is_found_by_its_label() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    make_tree(&source, 21);
    let repo = new_repo(&dir.path().join("repo")).await;
    let labelled = cairn_snapshot::BackupOptions {
        label: Some("backup-c1x".into()),
        ..Default::default()
    };

    let summary = repo.backup_with(&source, labelled, |_| {}).await.unwrap();
    repo.backup(&source, |_| {}).await.unwrap();

    let found = repo.find_by_label("backup-c1x").await.unwrap();
    assert_eq!(
        found.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![summary.id]
    );
    assert!(repo.find_by_label("other").await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_limit_holds_a_backup_to_that_many_bytes_per_second() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(source.join("data"), content(22, 3 << 20, false)).unwrap();
    let repo = new_repo(&dir.path().join("repo")).await;
    let limited = cairn_snapshot::BackupOptions {
        read_limit: Some(6 << 20),
        ..Default::default()
    };

    let started = std::time::Instant::now();
    let summary = repo.backup_with(&source, limited, |_| {}).await.unwrap();

    // 3 MiB at 6 MiB/s cannot take less than half a second (a lower bound: never flaky).
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
    repo.verify(&summary.id, VerifyMode::ReadAll).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_unreadable_manifest_hides_no_other_snapshot_and_blocks_no_restore() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    make_tree(&source, 31);
    let repo_dir = dir.path().join("repo");
    let repo = new_repo(&repo_dir).await;
    let options = |label: &str| cairn_snapshot::BackupOptions {
        label: Some(label.into()),
        ..Default::default()
    };
    let damaged = repo
        .backup_with(&source, options("damaged"), |_| {})
        .await
        .unwrap();
    let wanted = repo
        .backup_with(&source, options("wanted"), |_| {})
        .await
        .unwrap();
    let manifest = repo_dir.join("snapshots").join(damaged.id.hex());
    std::fs::write(&manifest, b"not a manifest").unwrap();

    let reopened = Repository::open(local(&repo_dir), quick_open())
        .await
        .unwrap();
    assert!(
        reopened.list().await.is_err(),
        "the strict listing still says so"
    );
    let (readable, unreadable) = reopened.list_readable().await.unwrap();
    assert_eq!(readable.len(), 1);
    assert_eq!(unreadable.len(), 1);
    assert_eq!(unreadable[0].0, damaged.id);
    let found = reopened.find_by_label("wanted").await.unwrap();
    assert_eq!(found.len(), 1);
    let target = dir.path().join("target");
    reopened.restore(&wanted.id, &target, |_| {}).await.unwrap();
    assert_eq!(describe(&target), describe(&source));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_is_read_once_however_often_snapshots_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    make_tree(&source, 32);
    let repo_dir = dir.path().join("repo");
    let repo = new_repo(&repo_dir).await;
    for _ in 0..3 {
        repo.backup(&source, |_| {}).await.unwrap();
    }
    let counting = Arc::new(TestStorage::faulty(
        local(&repo_dir),
        usize::MAX,
        Fault::FailBefore,
    ));
    let reopened = Repository::open(counting.clone(), quick_open())
        .await
        .unwrap();
    reopened.list().await.unwrap();
    let first = counting.manifest_reads.load(Ordering::SeqCst);
    assert_eq!(first, 3);
    for _ in 0..10 {
        reopened.list().await.unwrap();
        reopened.find_by_label("none").await.unwrap();
    }
    assert_eq!(
        counting.manifest_reads.load(Ordering::SeqCst),
        first,
        "remembered"
    );
}
