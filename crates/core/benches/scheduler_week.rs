//! Runs 10 000 scheduled backup jobs through one simulated week on the manual clock, with the
//! in-memory store and the fake engine (so it measures the core: scheduling, claims, locks,
//! history, retention), and prints runs per second and peak memory.
//!
//!     make bench          (or: cargo bench -p cairn-core --features testkit --bench scheduler_week)
//!     CAIRN_BENCH_JOBS=2000 make bench
//!
//! The mix, per 10 jobs: 1 hourly, 3 every six hours, 5 daily, 1 weekly, minutes and hours
//! spread over the day; each job has a cluster of its own and keeps 4 backups.
//! Goal (issue 3): the week in under 10 seconds on a 2-core machine. Figures, not asserts.

use cairn_core::testkit::{FakeEngine, InMemoryStore, ManualClock};
use cairn_core::{Clock, Services, SiteConfig};
use cairn_model::{
    CreateClusterRequest, CreateJobRequest, InstanceType, ProjectionLevel, ScheduledBackupData,
    Topology,
};
use chrono::TimeDelta;
use std::sync::Arc;
use std::time::Instant;

fn schedule(i: usize) -> String {
    let (minute, hour, day) = (i % 60, (i / 60) % 24, i % 7);
    match i % 10 {
        0 => format!("{minute} * * * *"),
        1..=3 => format!("{minute} */6 * * *"),
        4..=8 => format!("{minute} {hour} * * *"),
        _ => format!("{minute} {hour} * * {day}"),
    }
}

/// Peak resident memory of this process, from the kernel.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let job_count: usize = std::env::var("CAIRN_BENCH_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let store = Arc::new(InMemoryStore::default());
    let clock = Arc::new(ManualClock::at("2026-11-23T00:00:00Z"));
    let engine = Arc::new(FakeEngine::default());
    let services = Services::builder(store, clock.clone(), SiteConfig::default())
        .engine(engine)
        .build();
    let scope = cairn_core::Scope::trusted(services.start().await.expect("start"));
    let network = services
        .list_networks(&scope)
        .await
        .expect("networks")
        .remove(0);

    let setup = Instant::now();
    let mut clusters = Vec::with_capacity(job_count);
    for i in 0..job_count {
        let request = CreateClusterRequest {
            description: format!("cluster-{i}"),
            network_id: network.id.clone(),
            topology: Topology::SingleNode,
            instance_type: InstanceType::F1,
            disk_size_gb: 8,
            disk_type: "local-ssd".into(),
            server_version: "24.10".into(),
            projection_level: ProjectionLevel::Off,
            source_backup_id: None,
            source_backup_project_id: None,
            protected: false,
        };
        clusters.push(
            services
                .create_cluster(&scope, &request)
                .await
                .expect("cluster"),
        );
    }
    services.settle().await;
    for (i, cluster) in clusters.iter().enumerate() {
        let request = CreateJobRequest {
            description: format!("job-{i}"),
            schedule: schedule(i),
            data: ScheduledBackupData {
                cluster_id: cluster.id.clone(),
                description: "{cluster} #{index} {datetime:rfc3339}".into(),
                max_backup_count: 4,
            },
        };
        services.create_job(&scope, &request).await.expect("job");
    }
    let setup = setup.elapsed();

    let start = clock.now();
    let end = start + TimeDelta::weeks(1);
    let (mut runs, mut failed, mut ticks) = (0usize, 0usize, 0usize);
    let week = Instant::now();
    while let Some(due) = services.next_due().await.expect("next due") {
        if due > end {
            break;
        }
        clock.set(due);
        let written = services.run_due_jobs().await.expect("run due jobs");
        failed += written
            .iter()
            .filter(|h| h.status == cairn_model::HistoryStatus::Failed)
            .count();
        runs += written.len();
        ticks += 1;
        services.settle().await;
    }
    let week = week.elapsed();
    let backups = services.list_backups(&scope).await.expect("backups").len();

    println!("scheduler week: {job_count} jobs, {ticks} wake-ups over 7 simulated days");
    println!(
        "  setup ({job_count} clusters + jobs): {:.2} s",
        setup.as_secs_f64()
    );
    println!(
        "  the week: {runs} runs ({failed} failed) in {:.2} s = {:.0} runs/s",
        week.as_secs_f64(),
        runs as f64 / week.as_secs_f64()
    );
    println!("  backups kept after pruning: {backups}");
    match peak_rss_mib() {
        Some(mib) => println!("  peak memory (VmHWM): {mib:.0} MiB"),
        None => println!("  peak memory: not available on this system"),
    }
    let verdict = if week.as_secs_f64() < 10.0 {
        "met"
    } else {
        "NOT met"
    };
    println!("  goal (the week under 10 s): {verdict}");
}
