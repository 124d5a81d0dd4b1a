//! Test doubles for the ports: an in-memory [`Store`](crate::Store) and a
//! [`Clock`](crate::Clock) that only moves when told. Compiled for this crate's tests and, with
//! the `testkit` feature, for other crates'. [`contract`] is what every store must do, run
//! against each of them.

mod clock;
pub mod contract;
#[cfg(test)]
mod contract_memory;
mod engine;
mod fixtures;
mod memory;
mod notifier;

pub use clock::ManualClock;
pub use engine::{FakeEngine, Gate, SnapshotBehaviour};
pub use fixtures::{cluster_request, fixture, fixture_with, Fixture};
pub use memory::InMemoryStore;
pub use notifier::RecordingNotifier;
