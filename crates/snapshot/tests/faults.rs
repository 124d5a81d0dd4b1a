//! Fault injection: the N-th write or delete fails, for every N through two backups, a delete
//! and a gc. Whatever N, afterwards every listed snapshot restores byte for byte and `check`
//! finds no damage; a clean gc then leaves nothing behind.

mod common;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use cairn_snapshot::{Error, Repository, Storage};
use common::*;

async fn scenario(storage: Arc<dyn Storage>, a: &Path, b: &Path) -> Result<(), Error> {
    let repo = Repository::open(storage, quick_open()).await?;
    let first = repo.backup(a, |_| {}).await?;
    repo.backup(b, |_| {}).await?;
    repo.delete(&first.id).await?;
    repo.gc().await?;
    Ok(())
}

/// Every listed snapshot restores to the tree it was taken of; check finds no damage.
async fn assert_whole(repo_dir: &Path, scratch: &Path, label: &str) {
    let repo = Repository::open(local(repo_dir), quick_open())
        .await
        .unwrap();
    for (n, info) in repo.list().await.unwrap().into_iter().enumerate() {
        let target = scratch.join(format!("restore-{n}"));
        repo.restore(&info.id, &target, |_| {})
            .await
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(
            describe(&target),
            describe(Path::new(&info.source)),
            "{label}"
        );
        std::fs::remove_dir_all(&target).unwrap();
    }
    let check = repo.check(true).await.unwrap();
    assert!(check.is_clean(), "{label}: {:?}", check.errors);
}

/// Two trees that share all but one file.
fn two_trees(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (a, b) = (dir.join("a"), dir.join("b"));
    make_tree(&a, 20);
    make_tree(&b, 20);
    std::fs::write(
        b.join("chunks/chunk-000001.000000"),
        content(77, 300_000, false),
    )
    .unwrap();
    (a, b)
}

async fn every_fault(fault: Fault) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_trees(dir.path());

    // A clean run first, to know how many writes and deletes there are.
    let clean_dir = dir.path().join("clean");
    new_repo(&clean_dir).await;
    let counting = Arc::new(TestStorage::faulty(local(&clean_dir), usize::MAX, fault));
    scenario(counting.clone(), &a, &b).await.unwrap();
    let mutations = counting.mutations.load(Ordering::SeqCst);
    assert!(
        mutations > 20,
        "the scenario writes and deletes plenty: {mutations}"
    );

    let mut noticed = 0;
    for n in 1..=mutations {
        let repo_dir = dir.path().join(format!("repo-{n}"));
        new_repo(&repo_dir).await;
        let faulty = Arc::new(TestStorage::faulty(local(&repo_dir), n, fault));
        let outcome = scenario(faulty, &a, &b).await;
        let label = format!("{fault:?} at mutation {n} of {mutations} ({outcome:?})");
        // Unnoticed is fine only where a retry covers it (removing a lock) or the write landed.
        noticed += outcome.is_err() as usize;

        assert_whole(&repo_dir, dir.path(), &label).await;
        // And a clean gc afterwards tidies whatever the failure left.
        let repo = Repository::open(local(&repo_dir), quick_open())
            .await
            .unwrap();
        repo.gc()
            .await
            .unwrap_or_else(|e| panic!("{label}: the next gc failed: {e}"));
        let check = repo.check(true).await.unwrap();
        assert!(
            check.is_clean() && check.notes.is_empty(),
            "{label}: after gc {check:?}"
        );
        assert_whole(&repo_dir, dir.path(), &label).await;
        std::fs::remove_dir_all(&repo_dir).unwrap();
    }
    assert!(
        noticed * 4 >= mutations * 3,
        "only {noticed} of {mutations} faults failed the scenario"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_or_delete_that_fails_at_any_point_leaves_every_snapshot_restorable() {
    every_fault(Fault::FailBefore).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_or_delete_that_lands_but_reports_failure_leaves_every_snapshot_restorable() {
    every_fault(Fault::FailAfter).await;
}

/// So that the faults above hit every step of gc, its plan has packs of both kinds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenario_gives_gc_packs_to_delete_and_packs_to_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_trees(dir.path());
    let repo = new_repo(&dir.path().join("r")).await;
    let first = repo.backup(&a, |_| {}).await.unwrap();
    repo.backup(&b, |_| {}).await.unwrap();
    repo.delete(&first.id).await.unwrap();
    let plan = repo.gc_plan().await.unwrap();
    assert!(
        !plan.delete_packs.is_empty() && !plan.repack.is_empty(),
        "{plan:?}"
    );
}
