//! What one Cairn instance holds in memory between calls: kept answers (backup lists, access
//! checks), the scheduler's agenda and the counters. None of it names `Services`, so the use
//! cases that fill it and `Services`, which owns it, import it without a circle.

mod agenda;
mod backup_lists;
mod counters;
mod live;

pub(crate) use agenda::{Agenda, REFRESH};
pub use backup_lists::BACKUP_LIST_KEPT;
pub(crate) use backup_lists::{BackupLists, List};
pub(crate) use counters::MetricsState;
pub use counters::{Counters, Histogram, BACKUP_SECONDS};
pub(crate) use live::{LiveState, Probed, Pulse};

use crate::scope::Principal;

/// The way to stop a snapshot this instance is taking (see `Services::cancel_backup`): who
/// asks, and where to say that it has stopped.
pub(crate) type Canceller =
    tokio::sync::oneshot::Sender<(String, tokio::sync::oneshot::Sender<()>)>;

/// At most this many checks are kept (a flood of tokens must not grow it without end).
const ACCESS_CHECKS_HELD: usize = 10_000;

/// Recent answers of `Services::access_principal`, by the token's hash.
pub(crate) type AccessChecks = crate::kept::Kept<String, Principal>;

pub(crate) fn access_checks() -> AccessChecks {
    AccessChecks::new(ACCESS_CHECKS_HELD)
}
