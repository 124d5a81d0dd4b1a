//! The ports the core needs from the outside world. Adapters live in other crates
//! (`cairn-store` for the database, the engine crates for clusters); test doubles live in
//! [`crate::testkit`].
//!
//! The store is one trait per aggregate ([`TenancyStore`], [`ClusterStore`], [`BackupStore`],
//! [`JobStore`], [`AccessStore`], [`OutboxStore`], [`AuditStore`]) and [`Store`], all of them
//! together: what the use cases hold (`Arc<dyn Store>`), implemented for anything that
//! implements the seven.
//! Their methods are called on an `Arc<dyn Store>` without importing the traits; on a concrete
//! store (`InMemoryStore`, `SqlStore`) the aggregates used must be in scope.

mod access;
mod audit;
mod backups;
mod clusters;
mod deliverer;
mod engine;
mod jobs;
mod notifier;
mod outbox;
mod tenancy;

pub use access::{AccessStore, Credential, CredentialKind};
pub use audit::AuditStore;
pub use backups::{BackupStore, BackupSuccess, JobBackupCount};
pub use clusters::{ClusterPatch, ClusterStore};
pub(crate) use deliverer::summary;
pub use deliverer::{Deliverer, Outgoing};
pub use engine::{ClusterChange, Engine, EngineError, ProgressSink, SnapshotFacts, VerifiedFacts};
pub use jobs::JobStore;
pub use notifier::{LogNotifier, Notification, Notifier};
pub use outbox::OutboxStore;
pub use tenancy::{Renamable, TenancyStore};

/// Persistent state. Every read is scoped to its parent so ids of another project are not found.
pub trait Store:
    TenancyStore
    + ClusterStore
    + BackupStore
    + JobStore
    + AccessStore
    + OutboxStore
    + AuditStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: TenancyStore
        + ClusterStore
        + BackupStore
        + JobStore
        + AccessStore
        + OutboxStore
        + AuditStore
        + Send
        + Sync
        + 'static
        + ?Sized
{
}
