//! `GET /metrics` in Prometheus' text format, for the monitoring people already run: what the
//! core counts and reads (backups, failures by reason, job runs, verifications, pending
//! deliveries, each cluster's and job's last success) and, from here, request latency by
//! route. With `CAIRN_METRICS_TOKEN` set, served only to requests that send it (`Authorization:
//! Bearer …`); without, only to loopback peers whose request came through no proxy (a proxy on
//! this machine would make every visitor a loopback peer).

use super::Console;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cairn_core::metrics::{Histogram, MetricsReport};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Mutex;

/// Upper bounds (seconds) of the request latency histogram.
const REQUEST_SECONDS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Request latency by (method, route template), and answers by (method, route, status class).
#[derive(Default)]
pub struct HttpMetrics {
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    answers: Mutex<BTreeMap<(String, String, &'static str), u64>>,
}

impl HttpMetrics {
    fn record(&self, method: &str, route: &str, status: StatusCode, seconds: f64) {
        let key = (method.to_owned(), route.to_owned());
        self.latency
            .lock()
            .expect("latency")
            .entry(key.clone())
            .or_insert_with(|| Histogram::new(REQUEST_SECONDS))
            .observe(seconds);
        let class = match status.as_u16() {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        *self
            .answers
            .lock()
            .expect("answers")
            .entry((key.0, key.1, class))
            .or_default() += 1;
    }
}

/// Times every routed request (the route template, never the concrete path: ids would make
/// the series unbounded).
pub async fn time_requests(
    State(console): State<Console>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("other", |p| p.as_str())
        .to_owned();
    let method = request.method().to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    console.http_metrics.record(
        &method,
        &route,
        response.status(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`.
pub async fn metrics(State(console): State<Console>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if !may_read(peer, request.headers(), console.metrics_token.as_deref()) {
        return (
            StatusCode::FORBIDDEN,
            "Metrics need Authorization: Bearer <CAIRN_METRICS_TOKEN> when that is set, and \
             are otherwise served to this machine (loopback) only, not through a proxy.",
        )
            .into_response();
    }
    match console.services.metrics().await {
        Ok(report) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            render(&report, &console.http_metrics),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "metrics could not be read");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "metrics could not be read; see the log",
            )
                .into_response()
        }
    }
}

/// With a token configured, whoever sends it (compared in constant time); without, loopback
/// peers whose request no proxy forwarded.
fn may_read(peer: Option<SocketAddr>, headers: &HeaderMap, token: Option<&str>) -> bool {
    if let Some(token) = token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        return given.is_some_and(|given| super::auth::same_secret(given, token));
    }
    let forwarded = ["forwarded", "x-forwarded-for", "x-real-ip"]
        .iter()
        .any(|name| headers.contains_key(*name));
    let loopback = peer.is_some_and(|p| match p.ip() {
        std::net::IpAddr::V6(ip) => ip
            .to_ipv4_mapped()
            .map_or(ip.is_loopback(), |v4| v4.is_loopback()),
        ip => ip.is_loopback(),
    });
    loopback && !forwarded
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A family, then a series for each `(labels, value)` (written without braces where there are
/// no labels).
fn series<V: std::fmt::Display>(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    all: impl IntoIterator<Item = (String, V)>,
) {
    family(out, name, kind, help);
    for (labels, value) in all {
        let _ = if labels.is_empty() {
            writeln!(out, "{name} {value}")
        } else {
            writeln!(out, "{name}{{{labels}}} {value}")
        };
    }
}

/// Counts by one label: a series for each of its `values`, 0 where none was counted.
fn by_label(
    label: &str,
    values: &[&'static str],
    counts: &BTreeMap<&'static str, u64>,
) -> Vec<(String, u64)> {
    values
        .iter()
        .map(|value| {
            let n = counts.get(value).copied().unwrap_or(0);
            (format!("{label}=\"{value}\""), n)
        })
        .collect()
}

fn histogram(out: &mut String, name: &str, labels: &str, histogram: &Histogram) {
    let comma = if labels.is_empty() { "" } else { "," };
    for (bound, count) in histogram
        .bounds
        .iter()
        .map(|b| b.to_string())
        .chain(std::iter::once("+Inf".to_owned()))
        .zip(histogram.cumulative())
    {
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{comma}le=\"{bound}\"}} {count}"
        );
    }
    let braces = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    let _ = writeln!(out, "{name}_sum{braces} {}", histogram.sum);
    let _ = writeln!(out, "{name}_count{braces} {}", histogram.count);
}

/// The report in Prometheus' text exposition format (version 0.0.4).
pub fn render(report: &MetricsReport, http: &HttpMetrics) -> String {
    let mut out = String::new();
    let c = &report.counters;
    let clusters = &report.clusters;
    let cluster = |success: &cairn_core::ports::BackupSuccess| {
        format!(
            "cluster_id=\"{}\",project_id=\"{}\"",
            success.cluster_id, success.project_id
        )
    };
    series(
        &mut out,
        "cairn_backup_last_success_timestamp_seconds",
        "gauge",
        "When each cluster's newest successful backup was taken (Unix time)",
        clusters.iter().map(|s| (cluster(s), s.created.timestamp())),
    );
    series(
        &mut out,
        "cairn_backup_last_duration_seconds",
        "gauge",
        "How long each cluster's newest successful backup took",
        clusters.iter().filter_map(|s| {
            let seconds = (s.finished? - s.created).num_milliseconds() as f64 / 1000.0;
            Some((cluster(s), seconds))
        }),
    );
    series(
        &mut out,
        "cairn_backup_last_stored_bytes",
        "gauge",
        "Bytes each cluster's newest successful backup stored",
        clusters
            .iter()
            .filter_map(|s| Some((cluster(s), s.bytes_stored?))),
    );
    series(
        &mut out,
        "cairn_backups_total",
        "counter",
        "Backups that ended since this instance started, by outcome",
        by_label(
            "outcome",
            &["available", "defunct", "cancelled"],
            &c.backups,
        ),
    );
    let reasons = [
        "unhealthy",
        "failed",
        "deadline",
        "interrupted",
        "locked",
        "refused",
    ];
    series(
        &mut out,
        "cairn_backup_failures_total",
        "counter",
        "Backups that failed, and scheduled runs refused at once, by reason",
        by_label("reason", &reasons, &c.backup_failures),
    );
    family(
        &mut out,
        "cairn_backup_duration_seconds",
        "histogram",
        "How long successful backups took, from start to available",
    );
    histogram(
        &mut out,
        "cairn_backup_duration_seconds",
        "",
        &c.backup_seconds,
    );
    series(
        &mut out,
        "cairn_backup_stored_bytes_total",
        "counter",
        "Bytes successful backups stored (after compression)",
        [(String::new(), c.stored_bytes)],
    );
    series(
        &mut out,
        "cairn_backup_new_bytes_total",
        "counter",
        "Bytes successful backups added to their repository (the rest was there already)",
        [(String::new(), c.new_bytes)],
    );
    series(
        &mut out,
        "cairn_job_runs_total",
        "counter",
        "Job runs that ended, by outcome",
        by_label("outcome", &["succeeded", "failed"], &c.job_runs),
    );
    let job = |job: &cairn_core::metrics::JobPulse| {
        format!(
            "job_id=\"{}\",project_id=\"{}\",type=\"{}\"",
            job.job_id,
            job.project_id,
            job.job_type.as_str()
        )
    };
    series(&mut out, "cairn_job_last_success_timestamp_seconds",
        "gauge",
        "When each running job last succeeded, or when its schedule began if it has not yet (Unix time)",
        report.jobs.iter().map(|j| (job(j), j.last_success.timestamp())));
    series(
        &mut out,
        "cairn_job_interval_seconds",
        "gauge",
        "The longest time between two runs of each running job's schedule",
        report.jobs.iter().map(|j| (job(j), j.interval_seconds)),
    );
    series(
        &mut out,
        "cairn_verifications_total",
        "counter",
        "Backup verifications that ended, by outcome",
        by_label("outcome", &["ok", "damaged"], &c.verifications),
    );
    series(
        &mut out,
        "cairn_deliveries_pending",
        "gauge",
        "Notifications waiting to be sent to integrations",
        [(String::new(), report.pending_deliveries)],
    );
    family(
        &mut out,
        "cairn_http_request_duration_seconds",
        "histogram",
        "How long requests took, by method and route",
    );
    for ((method, route), latency) in http.latency.lock().expect("latency").iter() {
        let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
        histogram(
            &mut out,
            "cairn_http_request_duration_seconds",
            &labels,
            latency,
        );
    }
    series(
        &mut out,
        "cairn_http_requests_total",
        "counter",
        "Requests answered, by method, route and status class",
        http.answers
            .lock()
            .expect("answers")
            .iter()
            .map(|((method, route, class), n)| {
                let labels = format!(
                    "method=\"{method}\",route=\"{}\",status=\"{class}\"",
                    escape(route)
                );
                (labels, *n)
            }),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_need_the_token_when_one_is_set_and_are_otherwise_for_unproxied_loopback_only() {
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "192.0.2.7:5000".parse().unwrap();
        let mut with_token = HeaderMap::new();
        with_token.insert(header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
        let none = HeaderMap::new();
        assert!(may_read(Some(local), &none, None));
        assert!(!may_read(Some(remote), &none, None));
        assert!(
            !may_read(Some(remote), &with_token, None),
            "no token configured"
        );
        assert!(may_read(Some(remote), &with_token, Some("s3cret")));
        assert!(!may_read(Some(remote), &with_token, Some("other")));
        assert!(!may_read(None, &none, Some("s3cret")));
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5000".parse().unwrap();
        assert!(may_read(Some(mapped), &none, None), "IPv4-mapped loopback");
        // With a token set, loopback needs it too; through a proxy, loopback is anyone.
        assert!(!may_read(Some(local), &none, Some("s3cret")));
        let mut proxied = HeaderMap::new();
        proxied.insert("x-forwarded-for", "203.0.113.9".parse().unwrap());
        assert!(!may_read(Some(local), &proxied, None));
    }
}
