//! Cairn's orchestration core: every rule of Backup & Restore, in one place that the console,
//! the REST API and the scheduler all call. It talks to the world only through ports
//! ([`Store`], [`Clock`]); adapters are chosen at run time. No web, no SQL here.

/// Logs the failure of one step of a background loop, which goes on:
/// `logged!(self.prune_events().await, "could not prune old events")`.
macro_rules! logged {
    ($result:expr, $($message:tt)+) => {
        if let Err(error) = $result {
            tracing::error!(%error, $($message)+);
        }
    };
}

pub mod access;
pub mod audit;
pub mod backups;
pub mod clock;
pub mod clusters;
pub mod error;
pub mod events;
mod held;
pub mod ids;
pub mod integrations;
pub mod jobs;
mod kept;
pub mod lifecycle;
pub mod live;
pub mod locks;
pub mod metrics;
pub mod overviews;
pub mod paging;
pub mod ports;
pub mod recovery;
pub mod restore_tests;
pub mod restores;
pub mod retention;
pub mod scheduler;
pub mod scope;
pub mod services;
pub mod site;
pub mod supervision;
pub mod tenancy;
pub mod verification;

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use access::{AccessGrant, Credential, CredentialKind};
pub use clock::{Clock, SystemClock};
pub use error::{Error, ErrorKind, Result};
pub use locks::{ClusterLock, LockKind, LockOutcome};
pub use ports::{
    AccessStore, AuditStore, BackupStore, ClusterChange, ClusterPatch, ClusterStore, Engine,
    EngineError, JobStore, LogNotifier, Notification, Notifier, OutboxStore, ProgressSink,
    Renamable, SnapshotFacts, Store, TenancyStore, VerifiedFacts,
};
pub use scope::{Actor, Place, Principal, Scope};
pub use services::{Services, ServicesBuilder};
pub use site::{SeedPlan, SiteConfig};
pub use tenancy::CreateNetworkRequest;

#[cfg(test)]
mod authorization_tests;
#[cfg(test)]
mod flows_tests;
