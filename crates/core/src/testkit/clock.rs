//! A clock for tests: it moves only when told.

use crate::clock::Clock;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;

/// A clock that stands still until advanced or set; sleepers wake when it passes their time.
pub struct ManualClock(watch::Sender<DateTime<Utc>>);

impl ManualClock {
    /// Panics on a malformed time: it is a test's literal.
    pub fn at(rfc3339: &str) -> Self {
        Self(watch::channel(rfc3339.parse().expect("an RFC 3339 time")).0)
    }

    pub fn advance(&self, by: Duration) {
        self.0.send_modify(|now| *now += by);
    }

    pub fn set(&self, to: DateTime<Utc>) {
        self.0.send_replace(to);
    }
}

#[async_trait]
impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.borrow()
    }

    async fn sleep_until(&self, at: DateTime<Utc>) {
        let mut now = self.0.subscribe();
        let _ = now.wait_for(|now| *now >= at).await;
    }
}
