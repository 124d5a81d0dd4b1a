//! Load on the REST API (issue 14's measure): 200 concurrent clients for 60 s on loopback,
//! half listing the project's 100 backups and half reading one, while backups and restores
//! run. Prints requests/s, p50/p99 and errors per kind of request, and the server's peak
//! memory; with Debian's `wrk` installed, wrk's figures for the same two requests beside.
//! Bounded in clients and time (`CAIRN_LOAD_CLIENTS`, `CAIRN_LOAD_SECONDS`,
//! `CAIRN_LOAD_BACKUPS`); asserts nothing: these machines are shared and noisy.

#[path = "../process/support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{fill, free_port, Cairn, Nodes};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A process's resident memory now and at its peak, in KiB (`/proc/PID/status`).
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: u64,
    server_errors: u64,
}

impl Tally {
    fn line(&mut self, what: &str, seconds: f64) -> String {
        self.latencies_us.sort_unstable();
        let n = self.latencies_us.len();
        let at = |q: f64| {
            self.latencies_us
                .get(((n as f64 * q) as usize).min(n.saturating_sub(1)))
                .copied()
                .unwrap_or(0) as f64
                / 1000.0
        };
        format!(
            "{what}: {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, {} errors ({} × 5xx) of {n}",
            n as f64 / seconds,
            at(0.50),
            at(0.99),
            self.errors,
            self.server_errors
        )
    }
}

/// Waits (up to two minutes) until `GET path` answers `{kind: {status: "available"}}`.
async fn wait_available(cairn: &Cairn, path: &str, kind: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let (_, answer) = cairn.try_api("GET", path, None).await;
        if answer[kind]["status"] == "available" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn backup_path(cairn: &Cairn, id: &str) -> String {
    cairn.path("mesdb", &format!("backups/{id}"))
}

/// The median of `n` runs of `work`, in microseconds.
async fn median_us<T>(n: usize, mut work: impl AsyncFnMut() -> T) -> f64 {
    let mut times: Vec<f64> = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        std::hint::black_box(work().await);
        times.push(started.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    times[n / 2]
}

/// What one list request costs, piece by piece, on the server's own database (read beside
/// it, idle): the token check, the query with its decoding, the JSON the answer is made of.
async fn where_the_time_goes(cairn: &Cairn) {
    use cairn_core::{AccessStore, BackupStore};
    let url = format!("sqlite://{}", cairn.data.join("cairn.db").display());
    let store = cairn_store::SqlStore::open(&url).await.unwrap();
    let project = cairn_model::ProjectId::parse(cairn.scope.rsplit('/').next().unwrap()).unwrap();
    let hash = cairn_core::access::hash_secret(&cairn.token);
    let token = median_us(200, async || store.credential(&hash).await.unwrap()).await;
    let query = median_us(200, async || store.backups(&project).await.unwrap()).await;
    let backups = store.backups(&project).await.unwrap();
    let through_value = median_us(200, async || {
        serde_json::to_vec(&serde_json::json!({ "backups": backups })).unwrap()
    })
    .await;
    #[derive(serde::Serialize)]
    struct List<'a> {
        backups: &'a [cairn_model::Backup],
    }
    let direct = median_us(200, async || {
        serde_json::to_vec(&List { backups: &backups }).unwrap()
    })
    .await;
    let size = serde_json::to_vec(&List { backups: &backups })
        .unwrap()
        .len();
    println!(
        "one list of {} backups ({} KiB of JSON), medians: token check {token:.0} µs, query and \
         decoding {query:.0} µs, JSON through a Value tree {through_value:.0} µs, JSON straight \
         from the structs {direct:.0} µs",
        backups.len(),
        size / 1024
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let clients = env_number("CAIRN_LOAD_CLIENTS", 200).clamp(1, 1000) as usize;
    let seconds = env_number("CAIRN_LOAD_SECONDS", 60).clamp(1, 600);
    let backups = env_number("CAIRN_LOAD_BACKUPS", 100).clamp(1, 1000);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let _nodes = Nodes(data.clone());
    let env = [("CAIRN_LOG", "warn".to_owned())];
    let cairn = Arc::new(Cairn::start(&data, free_port(), &env).await);

    // A cluster with a little data, and `backups` backups of it.
    let networks = cairn
        .api("GET", &cairn.path("infra", "networks"), None)
        .await;
    let network = networks["networks"][0]["id"].clone();
    let request = json!({"description": "load", "networkId": network, "topology": "single-node",
        "instanceType": "F1", "diskSizeGb": 8, "diskType": "local-ssd", "serverVersion": "24.10",
        "projectionLevel": "off"});
    let cluster = cairn
        .api(
            "POST",
            &cairn.path("mesdb", "clusters"),
            Some(request.clone()),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cluster_path = cairn.path("mesdb", &format!("clusters/{cluster}"));
    wait_available(&cairn, &cluster_path, "cluster").await;
    let node = cairn.api("GET", &cluster_path, None).await["cluster"]["addresses"]["tcp"][0]
        .as_str()
        .unwrap()
        .to_owned();
    fill(&node, "load", 1 << 20, 7).await;
    let seeding = Instant::now();
    let mut ids = Vec::new();
    for n in 0..backups {
        let made = cairn
            .api(
                "POST",
                &cairn.path("mesdb", "backups"),
                Some(json!({"sourceClusterId": cluster, "description": format!("load #{n}")})),
            )
            .await;
        let id = made["id"].as_str().unwrap().to_owned();
        wait_available(&cairn, &backup_path(&cairn, &id), "backup").await;
        ids.push(id);
    }
    println!(
        "load: {backups} backups made in {:.1} s; {clients} clients for {seconds} s on loopback",
        seeding.elapsed().as_secs_f64()
    );

    where_the_time_goes(&cairn).await;

    // Backups and restores keep running during the load.
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let (cairn, stop, cluster, request) = (
            cairn.clone(),
            stop.clone(),
            cluster.clone(),
            request.clone(),
        );
        tokio::spawn(async move {
            let mut rounds = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let (status, made) = cairn
                    .try_api(
                        "POST",
                        &cairn.path("mesdb", "backups"),
                        Some(json!({"sourceClusterId": cluster, "description": "churn"})),
                    )
                    .await;
                if status >= 300 {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
                let id = made["id"].as_str().unwrap().to_owned();
                wait_available(&cairn, &backup_path(&cairn, &id), "backup").await;
                let mut restore = request.clone();
                restore["description"] = json!("churn restore");
                restore["sourceBackupId"] = json!(id);
                let (status, restored) = cairn
                    .try_api("POST", &cairn.path("mesdb", "clusters"), Some(restore))
                    .await;
                if status < 300 {
                    let path = cairn.path(
                        "mesdb",
                        &format!("clusters/{}", restored["id"].as_str().unwrap()),
                    );
                    wait_available(&cairn, &path, "cluster").await;
                    let _ = cairn.try_api("DELETE", &path, None).await;
                }
                rounds += 1;
            }
            rounds
        })
    };

    let pid = cairn.pid();
    let (rss_before, _) = memory_kib(pid);
    let peak = Arc::new(Mutex::new(0u64));
    let sampler = {
        let (stop, peak) = (stop.clone(), peak.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let (rss, _) = memory_kib(pid);
                {
                    let mut peak = peak.lock().unwrap();
                    *peak = (*peak).max(rss);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let list_url = format!("{}{}", cairn.base, cairn.path("mesdb", "backups"));
    let get_urls: Vec<String> = ids
        .iter()
        .map(|id| {
            format!(
                "{}{}",
                cairn.base,
                cairn.path("mesdb", &format!("backups/{id}"))
            )
        })
        .collect();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let tallies: Vec<_> = (0..clients)
        .map(|client| {
            let (http, token) = (http.clone(), cairn.token.clone());
            let url_of = {
                let (list_url, get_urls) = (list_url.clone(), get_urls.clone());
                move |n: usize| {
                    if client % 2 == 0 {
                        list_url.clone()
                    } else {
                        get_urls[(client + n) % get_urls.len()].clone()
                    }
                }
            };
            tokio::spawn(async move {
                let mut tally = Tally::default();
                let mut n = 0;
                while Instant::now() < deadline {
                    let started = Instant::now();
                    let answer = http.get(url_of(n)).bearer_auth(&token).send().await;
                    let ok = match answer {
                        Ok(response) => {
                            let status = response.status();
                            let body = response.bytes().await;
                            if status.is_server_error() {
                                tally.server_errors += 1;
                            }
                            status.is_success() && body.is_ok()
                        }
                        Err(_) => false,
                    };
                    if ok {
                        tally
                            .latencies_us
                            .push(started.elapsed().as_micros() as u64);
                    } else {
                        tally.errors += 1;
                    }
                    n += 1;
                }
                (client % 2 == 0, tally)
            })
        })
        .collect();
    let (mut list, mut get) = (Tally::default(), Tally::default());
    for task in tallies {
        let (listing, tally) = task.await.unwrap();
        let into = if listing { &mut list } else { &mut get };
        into.latencies_us.extend(tally.latencies_us);
        into.errors += tally.errors;
        into.server_errors += tally.server_errors;
    }
    let elapsed = seconds as f64;
    stop.store(true, Ordering::Relaxed);
    let rounds = churn.await.unwrap();
    let _ = sampler.await;
    let (_, hwm) = memory_kib(pid);
    println!("{}", list.line(&format!("list {backups} backups"), elapsed));
    println!("{}", get.line("get one backup", elapsed));
    println!(
        "meanwhile {rounds} backup + restore rounds; server memory {} MiB before, peak {} MiB under load (VmHWM {} MiB)",
        rss_before / 1024,
        *peak.lock().unwrap() / 1024,
        hwm / 1024
    );

    // The tool we compare with, side by side, when it is installed.
    if std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok()
    {
        for (what, url) in [("list", &list_url), ("get", &get_urls[0])] {
            let out = std::process::Command::new("wrk")
                .args([
                    "-t2",
                    &format!("-c{clients}"),
                    &format!("-d{}s", seconds.min(30)),
                ])
                .args([
                    "--latency",
                    "-H",
                    &format!("Authorization: Bearer {}", cairn.token),
                ])
                .arg(url)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            let pick = |prefix: &str| {
                text.lines()
                    .find(|l| l.trim_start().starts_with(prefix))
                    .map(|l| l.trim().to_owned())
                    .unwrap_or_default()
            };
            println!(
                "wrk {what}: {} | {} | {} | {}",
                pick("Requests/sec"),
                pick("50%"),
                pick("99%"),
                pick("Non-2xx")
            );
        }
    } else {
        println!("(wrk is not installed: `apt-get install wrk` to see its figures beside these)");
    }
}
