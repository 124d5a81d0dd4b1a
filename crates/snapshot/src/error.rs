use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong in a repository, each naming what it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("repository storage: {0}")]
    Storage(#[from] StorageError),
    #[error("no repository at {0} (create one with `cairn snapshot init`)")]
    NotARepository(String),
    #[error("a repository already exists at {0}")]
    AlreadyExists(String),
    #[error("invalid repository URL {url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("snapshot {0} not found")]
    SnapshotNotFound(String),
    #[error("snapshot id prefix {0} matches more than one snapshot; give more characters")]
    AmbiguousSnapshot(String),
    /// An object whose bytes are not what was written: a flipped bit, a truncation, a wrong key.
    #[error("{object} is corrupt: {reason}")]
    Corrupt { object: String, reason: String },
    /// A file of a snapshot that cannot be restored as it was backed up.
    #[error("snapshot {snapshot}, file {file}: {reason}")]
    FileDamaged {
        snapshot: String,
        file: String,
        reason: String,
    },
    #[error(
        "the repository is encrypted: give its key file (--key-file or the key_file in its config)"
    )]
    KeyRequired,
    #[error("the key in {0} is not this repository's key")]
    WrongKey(PathBuf),
    #[error("key file {path}: {reason}")]
    BadKeyFile { path: PathBuf, reason: String },
    #[error("the repository's format version {0} is newer than this Cairn understands (1)")]
    UnsupportedVersion(u32),
    #[error("restore target {0} is not empty; restore into a new or empty directory")]
    TargetNotEmpty(PathBuf),
    #[error("backup source {0} is not a directory")]
    SourceNotADirectory(PathBuf),
    #[error("{path}: file name is not UTF-8; snapshots store UTF-8 names only")]
    NonUtf8Name { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("repository is locked: {0}")]
    Locked(String),
    #[error("invalid setting {name}: {reason}")]
    InvalidSetting { name: &'static str, reason: String },
    #[error("refusing to collect garbage: {0}")]
    GcRefused(String),
    #[error("interrupted: {0}")]
    Interrupted(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }

    pub(crate) fn corrupt(object: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Corrupt {
            object: object.into(),
            reason: reason.into(),
        }
    }
}

/// A failed storage operation, with the object it was about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{op} {key}: {kind}")]
pub struct StorageError {
    pub op: &'static str,
    pub key: String,
    pub kind: StorageErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageErrorKind {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Other(String),
}

impl StorageError {
    pub fn other(op: &'static str, key: &str, message: impl fmt::Display) -> Self {
        Self {
            op,
            key: key.to_owned(),
            kind: StorageErrorKind::Other(message.to_string()),
        }
    }
    pub fn is_not_found(&self) -> bool {
        self.kind == StorageErrorKind::NotFound
    }
}
