//! The counters `/metrics` shows, kept by the use cases as things happen.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Upper bounds (seconds) of the backup duration histogram's buckets.
pub const BACKUP_SECONDS: &[f64] = &[1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0];

/// A Prometheus histogram: counts per upper bound (not cumulative here), their sum and count.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub bounds: &'static [f64],
    /// `counts[i]` observations ≤ `bounds[i]` and > the bound before; the last is `+Inf`.
    pub counts: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    pub fn observe(&mut self, value: f64) {
        let slot = self
            .bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(self.bounds.len());
        self.counts[slot] += 1;
        self.sum += value;
        self.count += 1;
    }

    /// Observations ≤ each bound, as Prometheus' `_bucket{le=…}` lines count them.
    pub fn cumulative(&self) -> Vec<u64> {
        self.counts
            .iter()
            .scan(0, |total, n| {
                *total += n;
                Some(*total)
            })
            .collect()
    }
}

/// The counters, kept by the use cases as things happen.
#[derive(Debug)]
pub struct Counters {
    /// Backups that ended, by outcome (`available`, `defunct`).
    pub backups: BTreeMap<&'static str, u64>,
    /// Why backups failed: `unhealthy`, `deadline`, `interrupted`, `failed`, `locked`, `refused`.
    pub backup_failures: BTreeMap<&'static str, u64>,
    pub backup_seconds: Histogram,
    pub stored_bytes: u64,
    pub new_bytes: u64,
    /// Job runs that ended, by outcome (`succeeded`, `failed`).
    pub job_runs: BTreeMap<&'static str, u64>,
    /// Verifications that ended, by outcome (`ok`, `damaged`).
    pub verifications: BTreeMap<&'static str, u64>,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            backups: BTreeMap::new(),
            backup_failures: BTreeMap::new(),
            backup_seconds: Histogram::new(BACKUP_SECONDS),
            stored_bytes: 0,
            new_bytes: 0,
            job_runs: BTreeMap::new(),
            verifications: BTreeMap::new(),
        }
    }
}

/// Where the counters live (one per instance).
#[derive(Debug, Default)]
pub(crate) struct MetricsState(pub(crate) Mutex<Counters>);

impl MetricsState {
    pub(crate) fn count(&self, change: impl FnOnce(&mut Counters)) {
        change(&mut self.0.lock().expect("metrics"));
    }
}
