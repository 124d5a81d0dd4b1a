//! A node's event log: an append-only log in chunk files and a checkpoint written after the data
//! it covers, the way KurrentDB lays out its data.
//!
//! ```text
//! chunk-000000.000000   records back to back; a record never spans two chunks
//! chunk-000001.000000   (the next one starts at the next multiple of the chunk size)
//! writer.chk            8 bytes: the log position up to which everything is durable
//! ```
//!
//! An append writes its records, syncs them, then writes and syncs the checkpoint: the
//! checkpoint never points past data that is not on disk. Whatever lies past the checkpoint
//! (a torn write, a crash mid-append) is cut off when the log is opened, so a node killed at any
//! moment comes back with exactly the appends it acknowledged. A snapshot that reads the
//! checkpoint first and the chunks after it restores to a consistent prefix the same way.
//!
//! Here: the log's types and opening it (the cut past the checkpoint, the index rebuilt);
//! `record` is a record's bytes, `append` writes records, `read` reads them back, and `lock`
//! keeps a volume to one node.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod append;
mod lock;
mod read;
mod record;

use lock::lock_volume;
pub use lock::VOLUME_LOCK;
use record::decode;

/// The name of the checkpoint file. Snapshots read it first (see the module docs).
pub const CHECKPOINT: &str = "writer.chk";

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the volume's quota of {quota} bytes would be exceeded: {used} bytes used, \
         this append needs {needed}; nothing was written"
    )]
    QuotaExceeded { quota: u64, used: u64, needed: u64 },
    #[error("replicated records do not follow on from this log's end {end}")]
    OutOfStep { end: u64 },
    #[error("{0} is in use by another node")]
    VolumeInUse(PathBuf),
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    #[error("{path} is damaged at position {position}: {reason}")]
    Damaged {
        path: PathBuf,
        position: u64,
        reason: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LogError + '_ {
    move |source| LogError::Io {
        path: path.to_owned(),
        source,
    }
}

/// An event as a client sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewEvent {
    pub event_id: String,
    pub event_type: String,
    #[serde(default)]
    pub data: serde_json::Value,
    #[serde(default)]
    pub metadata: serde_json::Value,
}

/// An event as stored and read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedEvent {
    pub stream: String,
    /// Its number within the stream, from 0.
    pub event_number: u64,
    /// Where its record starts in the log.
    pub position: u64,
    pub event_id: String,
    pub event_type: String,
    pub data: serde_json::Value,
    pub metadata: serde_json::Value,
}

/// Sizes of a log; small chunks in tests make rollover happen.
#[derive(Debug, Clone, Copy)]
pub struct LogSettings {
    pub chunk_size: u64,
    /// The volume's quota (`diskSizeGb`), in bytes.
    pub quota: u64,
}

pub struct EventLog {
    dir: PathBuf,
    settings: LogSettings,
    /// End of the durable log: the checkpoint.
    end: u64,
    /// Bytes the chunk files take on disk.
    used: u64,
    /// Each stream's events, by their positions.
    streams: HashMap<String, Vec<u64>>,
    writer: Option<(u64, File)>,
    checkpoint: File,
    /// Held while the log is open: two nodes must never own one volume.
    _lock: File,
}

impl std::fmt::Debug for EventLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLog")
            .field("dir", &self.dir)
            .field("end", &self.end)
            .finish()
    }
}

impl EventLog {
    /// Opens (or creates) the log in `dir`, cutting off anything past the checkpoint.
    pub fn open(dir: &Path, settings: LogSettings) -> Result<EventLog, LogError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let lock = lock_volume(dir)?;
        let checkpoint_path = dir.join(CHECKPOINT);
        let checkpoint = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&checkpoint_path)
            .map_err(io(&checkpoint_path))?;
        let mut bytes = [0u8; 8];
        let end = match checkpoint.read_exact_at(&mut bytes, 0) {
            Ok(()) => u64::from_le_bytes(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(io(&checkpoint_path)(e)),
        };
        let mut log = EventLog {
            dir: dir.to_owned(),
            settings,
            end,
            used: 0,
            streams: HashMap::new(),
            writer: None,
            checkpoint,
            _lock: lock,
        };
        log.cut_past_checkpoint()?;
        log.rebuild_index()?;
        Ok(log)
    }

    /// How many events lie before `up_to` (the whole log when `None`), and where that part
    /// ends: what a backup taken at checkpoint `up_to` holds, and what its restore must hold.
    pub fn contents(&self, up_to: Option<u64>) -> (u64, u64) {
        let end = up_to.map_or(self.end, |limit| limit.min(self.end));
        let count = self
            .streams
            .values()
            .map(|positions| positions.partition_point(|&p| p < end) as u64)
            .sum();
        (count, end)
    }

    /// The volume this log lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn end(&self) -> u64 {
        self.end
    }

    pub fn used(&self) -> u64 {
        self.used
    }

    pub fn quota(&self) -> u64 {
        self.settings.quota
    }

    pub fn set_quota(&mut self, quota: u64) {
        self.settings.quota = quota;
    }

    fn chunk_path(&self, number: u64) -> PathBuf {
        self.dir.join(format!("chunk-{number:06}.000000"))
    }

    fn chunk_numbers(&self) -> Result<Vec<u64>, LogError> {
        let mut numbers = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let name = entry.map_err(io(&self.dir))?.file_name();
            let name = name.to_string_lossy();
            if let Some(number) = name
                .strip_prefix("chunk-")
                .and_then(|n| n.strip_suffix(".000000"))
            {
                if let Ok(number) = number.parse::<u64>() {
                    numbers.push(number);
                }
            }
        }
        numbers.sort_unstable();
        Ok(numbers)
    }

    /// Removes chunks wholly past the checkpoint and truncates the one it falls in.
    fn cut_past_checkpoint(&mut self) -> Result<(), LogError> {
        let size = self.settings.chunk_size;
        for number in self.chunk_numbers()? {
            let path = self.chunk_path(number);
            let keep = self.end.saturating_sub(number * size).min(size);
            if keep == 0 {
                std::fs::remove_file(&path).map_err(io(&path))?;
                continue;
            }
            let file = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io(&path))?;
            let length = file.metadata().map_err(io(&path))?.len();
            if length > keep {
                file.set_len(keep).map_err(io(&path))?;
                file.sync_all().map_err(io(&path))?;
            }
            self.used += length.min(keep);
        }
        Ok(())
    }

    /// Reads every record up to the checkpoint, to know each stream's events.
    fn rebuild_index(&mut self) -> Result<(), LogError> {
        let mut position = 0;
        while position < self.end {
            let chunk = position / self.settings.chunk_size;
            let offset = position % self.settings.chunk_size;
            let path = self.chunk_path(chunk);
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            let limit = if chunk == self.end / self.settings.chunk_size {
                (self.end % self.settings.chunk_size) as usize
            } else {
                bytes.len()
            };
            if limit > bytes.len() {
                return Err(LogError::Damaged {
                    path: path.clone(),
                    position: self.end,
                    reason: format!(
                        "the checkpoint points past the data, which ends at {}",
                        bytes.len()
                    ),
                });
            }
            let mut at = offset as usize;
            while at < limit {
                let record = decode(&bytes[at..limit]).map_err(|reason| LogError::Damaged {
                    path: path.clone(),
                    position: chunk * self.settings.chunk_size + at as u64,
                    reason,
                })?;
                self.streams
                    .entry(record.stream.to_owned())
                    .or_default()
                    .push(chunk * self.settings.chunk_size + at as u64);
                at += record.len;
            }
            position = (chunk + 1) * self.settings.chunk_size;
        }
        Ok(())
    }
}
