//! `cairn snapshot …` end to end, in process: exit codes and what lands on disk.
#![cfg(feature = "cli")]

mod common;

use std::process::ExitCode;

use cairn_snapshot::cli::run;
use cairn_snapshot::{OpenOptions, Repository};
use common::*;

async fn cli(args: &[&str]) -> ExitCode {
    run(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_backs_up_restores_removes_and_collects_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (source, target) = (dir.path().join("source"), dir.path().join("target"));
    make_tree(&source, 30);
    let repo = dir.path().join("repo");
    let repo = repo.to_str().unwrap();

    assert_eq!(cli(&["init", "--repo", repo]).await, ExitCode::SUCCESS);
    assert_eq!(
        cli(&["backup", source.to_str().unwrap(), "--repo", repo]).await,
        ExitCode::SUCCESS
    );
    let opened = Repository::open_url(repo, OpenOptions::default())
        .await
        .unwrap();
    let id = opened.list().await.unwrap()[0].id.short();
    assert_eq!(cli(&["ls", "--repo", repo]).await, ExitCode::SUCCESS);
    assert_eq!(
        cli(&["verify", &id, "--repo", repo]).await,
        ExitCode::SUCCESS
    );
    assert_eq!(
        cli(&["verify", &id, "--sample", "10", "--repo", repo]).await,
        ExitCode::SUCCESS
    );
    assert_eq!(
        cli(&["restore", &id, target.to_str().unwrap(), "--repo", repo]).await,
        ExitCode::SUCCESS
    );
    assert_eq!(describe(&target), describe(&source));
    assert_eq!(
        cli(&["check", "--read-data", "--repo", repo]).await,
        ExitCode::SUCCESS
    );
    assert_eq!(cli(&["rm", &id, "--repo", repo]).await, ExitCode::SUCCESS);
    assert_eq!(cli(&["gc", "--repo", repo]).await, ExitCode::SUCCESS);
    assert!(opened.list().await.unwrap().is_empty());
    assert!(opened.gc_plan().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_mistakes_exit_2_and_repository_failures_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let repo = repo.to_str().unwrap();
    assert_eq!(
        cli(&["frobnicate", "--repo", repo]).await,
        ExitCode::from(2)
    );
    assert_eq!(
        cli(&["backup", "--repo", repo]).await,
        ExitCode::from(2),
        "no directory"
    );
    assert_eq!(cli(&["ls", "--repo"]).await, ExitCode::from(2), "no value");
    assert_eq!(
        cli(&["gc", "--bogus", "--repo", repo]).await,
        ExitCode::from(2)
    );
    assert_eq!(
        cli(&["ls", "--repo", repo]).await,
        ExitCode::FAILURE,
        "no repository there"
    );
    assert!(
        !dir.path().join("repo").exists(),
        "looking does not create a repository folder"
    );
    assert_eq!(cli(&["init", "--repo", repo]).await, ExitCode::SUCCESS);
    assert_eq!(
        cli(&["rm", "deadbeef", "--repo", repo]).await,
        ExitCode::FAILURE
    );
    assert_eq!(
        cli(&["init", "--repo", repo]).await,
        ExitCode::FAILURE,
        "already one there"
    );
}
