//! How long the server takes to render the first page of the backups page, with 100 backups
//! and with 10 000 (lists that scale: the second should cost about what the first does). A
//! real SQLite store, the console's router in process, a signed-in session, whole responses.
//! Prints the figures and their ratio; asserts nothing. `CAIRN_BENCH_BACKUPS=N` changes the
//! larger count.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::http::{header, Request};
use axum::Router;
use cairn::router::router;
use cairn::server::Console;
use cairn_core::testkit::FakeEngine;
use cairn_core::{BackupStore, Services, SiteConfig, SystemClock};
use cairn_model::{Backup, BackupId, CreateJobRequest, RawId, ScheduledBackupData};
use leptos::config::LeptosOptions;
use tower::ServiceExt;

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "correct horse battery";

/// A console over a fresh database holding `count` backups (half from two jobs, half
/// one-offs), and the session cookie of its admin.
struct World {
    app: Router,
    cookie: String,
    seeded: Duration,
    _dir: tempfile::TempDir,
}

async fn world(count: usize) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        cairn_store::SqlStore::open(&format!(
            "sqlite://{}",
            dir.path().join("cairn.db").display()
        ))
        .await
        .unwrap(),
    );
    let services = Services::builder(store.clone(), Arc::new(SystemClock), SiteConfig::default())
        .engine(Arc::new(FakeEngine::default()))
        .build();
    let scope = cairn_core::Scope::trusted(services.start().await.unwrap());
    let network = services.list_networks(&scope).await.unwrap()[0].id.clone();
    let cluster = services
        .create_cluster(&scope, &cairn_core::testkit::cluster_request(network))
        .await
        .unwrap();
    services.settle().await;

    let seeding = Instant::now();
    let mut jobs = Vec::new();
    for name in ["hourly", "daily"] {
        let job = services
            .create_job(
                &scope,
                &CreateJobRequest {
                    description: name.into(),
                    schedule: "0 */1 * * *".into(),
                    data: ScheduledBackupData {
                        cluster_id: cluster.id.clone(),
                        description: format!("{{cluster}} {name} #{{index}}"),
                        max_backup_count: 1000,
                    },
                },
            )
            .await
            .unwrap();
        jobs.push(job.id);
    }
    // One real backup, then copies of it written straight to the store (a real backup per
    // row would take minutes for 10 000 and measure nothing more): one a minute, back in time.
    let template = services
        .create_backup(&scope, &cluster.id, "{cluster} one-off #{index}")
        .await
        .unwrap();
    services.settle().await;
    let template: Backup = services.get_backup(&scope, &template.id).await.unwrap();
    for i in 1..count {
        let created = template.created - chrono::TimeDelta::minutes(i as i64);
        let raw = RawId::from_parts(created.timestamp() as u32, [0xbe, 0x0c, 0x4e], 1, i as u32);
        let job = (i % 2 == 0).then(|| jobs[(i / 2) % 2].clone());
        let description = match &job {
            Some(_) => format!("orders scheduled #{i}"),
            None => format!("orders one-off #{i}"),
        };
        store
            .insert_backup(&Backup {
                id: BackupId::from_raw(raw),
                created,
                description,
                linked_resource: job,
                ..template.clone()
            })
            .await
            .unwrap();
    }
    let seeded = seeding.elapsed();

    services.create_first_admin(EMAIL, PASSWORD).await.unwrap();
    let (_, secret) = services.sign_in(EMAIL, PASSWORD).await.unwrap();
    let options = LeptosOptions::builder()
        .output_name("cairn")
        .site_root(dir.path().to_str().unwrap())
        .build();
    World {
        app: router(Console::new(services, scope.place()), options),
        cookie: format!("cairn_session={secret}"),
        seeded,
        _dir: dir,
    }
}

/// Median, p95 and smallest of 20 renders of `path` (after 3 to warm up), and the HTML's size.
async fn measure(world: &World, path: &str) -> (Duration, Duration, Duration, usize) {
    let render = || async {
        let started = Instant::now();
        let response = world
            .app
            .clone()
            .oneshot(
                Request::get(path)
                    .header(header::COOKIE, world.cookie.as_str())
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (started.elapsed(), body.len())
    };
    for _ in 0..3 {
        render().await;
    }
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..20 {
        let (time, bytes) = render().await;
        times.push(time);
        size = bytes;
    }
    times.sort();
    (times[10], times[19], times[0], size)
}

#[tokio::main]
async fn main() {
    let large: usize = std::env::var("CAIRN_BENCH_BACKUPS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut medians = Vec::new();
    for count in [100, large] {
        let world = world(count).await;
        for path in ["/backups", "/backups?q=one-off"] {
            let (median, p95, min, size) = measure(&world, path).await;
            println!(
                "backups page, first page ({count} backups, {path}): median {:.1} ms, p95 {:.1} ms, min {:.1} ms; {} KiB of HTML (seeded in {:.1} s)",
                ms(median),
                ms(p95),
                ms(min),
                size / 1024,
                world.seeded.as_secs_f64()
            );
            if path == "/backups" {
                medians.push(median);
            }
        }
    }
    println!(
        "first page with {large} backups against 100: {:.1} ms / {:.1} ms = {:.2}× (the same page of 50 rows: near 1× is what paging is for)",
        ms(medians[1]),
        ms(medians[0]),
        medians[1].as_secs_f64() / medians[0].as_secs_f64()
    );
}
