//! Cairn's snapshot repository: a directory into a deduplicated, compressed, optionally
//! encrypted snapshot in object storage, and back, verified. See README.md for the format
//! and the guarantees.

mod backup;
mod check;
#[cfg(feature = "cli")]
pub mod cli;
pub mod crypto;
mod error;
pub mod format;
mod gc;
mod lock;
mod repo;
mod restore;
pub mod storage;

pub use backup::{BackupOptions, Progress, Summary};
pub use check::CheckReport;
pub use crypto::Key;
pub use error::{Error, Result};
pub use format::{ChunkerParams, Hash32, Manifest, RepoConfig, SnapshotStats};
pub use gc::{GcPlan, GcReport};
pub use lock::LockSettings;
pub use repo::{InitOptions, OpenOptions, Repository, SnapshotInfo};
pub use restore::{RestoreSummary, VerifyMode, VerifyReport};
pub use storage::{Listed, ObjectStorage, S3Settings, Storage, StorageError, StorageErrorKind};
