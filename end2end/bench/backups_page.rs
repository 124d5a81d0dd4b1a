//! How long the server takes to render the backups page with 1 000 backups (issue 6's
//! measure): a real SQLite store, the console's router, whole responses. Prints figures and
//! asserts nothing. `CAIRN_BENCH_BACKUPS=N` changes the count.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::http::Request;
use cairn::router::router;
use cairn::server::Console;
use cairn_core::testkit::FakeEngine;
use cairn_core::{Services, SiteConfig, SystemClock};
use cairn_model::{CreateJobRequest, ScheduledBackupData};
use leptos::config::LeptosOptions;
use tower::ServiceExt;

#[tokio::main]
async fn main() {
    let count: usize = std::env::var("CAIRN_BENCH_BACKUPS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let store = cairn_store::SqlStore::open(&format!(
        "sqlite://{}",
        dir.path().join("cairn.db").display()
    ))
    .await
    .unwrap();
    let services = Services::builder(
        Arc::new(store),
        Arc::new(SystemClock),
        SiteConfig::default(),
    )
    .engine(Arc::new(FakeEngine::default()))
    .build();
    let scope = cairn_core::Scope::trusted(services.start().await.unwrap());
    let network = services.list_networks(&scope).await.unwrap()[0].id.clone();
    let cluster = services
        .create_cluster(&scope, &cairn_core::testkit::cluster_request(network))
        .await
        .unwrap();
    services.settle().await;

    // Half the backups come from two jobs (grouped rows), half are one-offs.
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
    for i in 0..count {
        if i % 2 == 0 {
            services
                .run_job_now(&scope, &jobs[(i / 2) % 2])
                .await
                .unwrap();
        } else {
            services
                .create_backup(
                    &scope,
                    &cluster.id,
                    "{cluster} one-off #{index} {datetime:utc}",
                )
                .await
                .unwrap();
        }
        services.settle().await;
    }
    let seeded = seeding.elapsed();

    let options = LeptosOptions::builder()
        .output_name("cairn")
        .site_root(dir.path().to_str().unwrap())
        .build();
    let app = router(Console::new(services, scope.place()), options);
    let render = |path: String| {
        let app = app.clone();
        async move {
            let started = Instant::now();
            let response = app
                .oneshot(Request::get(&path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
            (started.elapsed(), body.len())
        }
    };
    // One-offs are always listed; expanding a job lists its backups too.
    for path in [
        "/backups".to_owned(),
        format!("/backups?expand={}", jobs[0]),
    ] {
        for _ in 0..3 {
            render(path.clone()).await; // warm-up
        }
        let mut times: Vec<Duration> = Vec::new();
        let mut size = 0;
        for _ in 0..20 {
            let (time, bytes) = render(path.clone()).await;
            times.push(time);
            size = bytes;
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "backups page ({count} backups, {path}): median {:.1} ms, p95 {:.1} ms, min {:.1} ms; {} KiB of HTML (seeded in {:.1} s)",
            ms(times[times.len() / 2]),
            ms(times[times.len() * 95 / 100]),
            ms(times[0]),
            size / 1024,
            seeded.as_secs_f64()
        );
    }
}
