//! Makes xids whose time part comes from the [`Clock`], so a resource's `created` equals the
//! time inside its id, also under a simulated clock.

use crate::clock::Clock;
use cairn_model::RawId;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

pub struct IdGenerator {
    machine: [u8; 3],
    pid: u16,
}

/// One counter per process, as xid keeps it: every generator in the process draws from it, so
/// two generators never mint the same id, even under a clock that stands still. It starts at a
/// value taken from the real time (entropy, not the Clock) so processes started together diverge.
fn counter() -> &'static AtomicU32 {
    static COUNTER: OnceLock<AtomicU32> = OnceLock::new();
    COUNTER.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        AtomicU32::new(nanos ^ std::process::id().rotate_left(16))
    })
}

impl IdGenerator {
    /// Machine id from the host name (as xid does), process id from the OS.
    pub fn new() -> Self {
        let mut hasher = DefaultHasher::new();
        hostname().hash(&mut hasher);
        let machine_hash = hasher.finish().to_be_bytes();
        Self {
            machine: [machine_hash[0], machine_hash[1], machine_hash[2]],
            pid: std::process::id() as u16,
        }
    }

    /// A new id whose time part is the clock's now.
    pub fn next(&self, clock: &dyn Clock) -> RawId {
        let seconds = clock.now().timestamp().clamp(0, i64::from(u32::MAX)) as u32;
        let count = counter().fetch_add(1, Ordering::Relaxed);
        RawId::from_parts(seconds, self.machine, self.pid, count)
    }
}

impl Default for IdGenerator {
    fn default() -> Self {
        Self::new()
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|name| name.trim().to_owned())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::ManualClock;

    #[test]
    fn generated_ids_carry_the_clock_time_and_never_repeat() {
        let clock = ManualClock::at("2025-01-23T18:12:04Z");
        let first = IdGenerator::new().next(&clock);
        let second = IdGenerator::new().next(&clock);
        assert_ne!(
            first, second,
            "two generators under a frozen clock must not collide"
        );
        assert_eq!(first.time(), clock.now());
        assert_eq!(second.time().to_rfc3339(), "2025-01-23T18:12:04+00:00");
    }
}
