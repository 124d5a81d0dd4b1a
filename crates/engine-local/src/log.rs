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

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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

const MAX_NAME: usize = u16::MAX as usize;
/// len + crc + event number + lengths of the four fields + trailing len.
const OVERHEAD: usize = 4 + 4 + 8 + 2 + 2 + 4 + 4 + 2 + 4;

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

    /// Appends events to a stream; durable (data, then checkpoint, synced) when it returns.
    pub fn append(
        &mut self,
        stream: &str,
        events: &[NewEvent],
    ) -> Result<Vec<RecordedEvent>, LogError> {
        if stream.is_empty() || stream.len() > MAX_NAME {
            return Err(LogError::InvalidEvent(format!(
                "a stream name has 1 to {MAX_NAME} bytes"
            )));
        }
        let first_number = self.streams.get(stream).map_or(0, Vec::len) as u64;
        let mut records = Vec::with_capacity(events.len());
        for (i, event) in events.iter().enumerate() {
            records.push(encode(stream, first_number + i as u64, event)?);
        }
        let needed: u64 = records.iter().map(|r| r.len() as u64).sum();
        if self.used + needed > self.settings.quota {
            return Err(LogError::QuotaExceeded {
                quota: self.settings.quota,
                used: self.used,
                needed,
            });
        }
        if records
            .iter()
            .any(|r| r.len() as u64 > self.settings.chunk_size)
        {
            return Err(LogError::InvalidEvent(
                "an event is larger than a chunk".into(),
            ));
        }

        let mut position = self.end;
        let mut placed = Vec::with_capacity(records.len());
        for record in records {
            let size = self.settings.chunk_size;
            if position % size + record.len() as u64 > size {
                position = (position / size + 1) * size; // the rest of this chunk stays empty
            }
            let len = record.len() as u64;
            placed.push((position, record));
            position += len;
        }
        self.write_records(&placed)?;
        let mut recorded = Vec::with_capacity(events.len());
        for (i, (event, (at, _))) in events.iter().zip(&placed).enumerate() {
            recorded.push(RecordedEvent {
                stream: stream.to_owned(),
                event_number: first_number + i as u64,
                position: *at,
                event_id: event.event_id.clone(),
                event_type: event.event_type.clone(),
                data: event.data.clone(),
                metadata: event.metadata.clone(),
            });
        }
        Ok(recorded)
    }

    /// Writes records a leader sent, at the leader's positions; returns the new end. The first
    /// must start at this log's end (or at the next chunk, when the leader left the rest of
    /// this one empty); anything else is `OutOfStep` with this log's end, to resend from.
    pub fn append_replicated(&mut self, records: Vec<(u64, Vec<u8>)>) -> Result<u64, LogError> {
        if records.is_empty() {
            return Ok(self.end);
        }
        let size = self.settings.chunk_size;
        let mut expected = self.end;
        for (position, record) in &records {
            let next_chunk = (expected / size + 1) * size;
            let in_step = *position == expected
                || (*position == next_chunk && !expected.is_multiple_of(size));
            if !in_step || position % size + record.len() as u64 > size {
                return Err(LogError::OutOfStep { end: self.end });
            }
            decode(record).map_err(|reason| LogError::Damaged {
                path: self.chunk_path(position / size),
                position: *position,
                reason: format!("a replicated record: {reason}"),
            })?;
            expected = position + record.len() as u64;
        }
        let needed: u64 = records.iter().map(|(_, r)| r.len() as u64).sum();
        if self.used + needed > self.settings.quota {
            return Err(LogError::QuotaExceeded {
                quota: self.settings.quota,
                used: self.used,
                needed,
            });
        }
        self.write_records(&records)?;
        Ok(self.end)
    }

    /// Records from `from` up to the end, at most about `max_bytes`: what a follower lacks.
    pub fn read_raw(&self, from: u64, max_bytes: usize) -> Result<Vec<(u64, Vec<u8>)>, LogError> {
        let size = self.settings.chunk_size;
        let mut out = Vec::new();
        let (mut position, mut total) = (from, 0usize);
        while position < self.end && total < max_bytes {
            let chunk = position / size;
            let path = self.chunk_path(chunk);
            let file = File::open(&path).map_err(io(&path))?;
            let length = file.metadata().map_err(io(&path))?.len();
            if position % size >= length {
                position = (chunk + 1) * size; // the empty rest of a chunk
                continue;
            }
            let mut head = [0u8; 4];
            file.read_exact_at(&mut head, position % size)
                .map_err(io(&path))?;
            let mut record = vec![0u8; u32::from_le_bytes(head) as usize];
            file.read_exact_at(&mut record, position % size)
                .map_err(io(&path))?;
            decode(&record).map_err(|reason| LogError::Damaged {
                path: path.clone(),
                position,
                reason,
            })?;
            total += record.len();
            let len = record.len() as u64;
            out.push((position, record));
            position += len;
        }
        Ok(out)
    }

    /// Writes records at their positions, syncs them, then the checkpoint; updates the index.
    fn write_records<R: AsRef<[u8]>>(&mut self, records: &[(u64, R)]) -> Result<(), LogError> {
        let size = self.settings.chunk_size;
        let mut touched: Vec<u64> = Vec::new();
        let mut end = self.end;
        for (position, record) in records {
            let chunk = position / size;
            let file = self.writer_for(chunk)?;
            file.write_all_at(record.as_ref(), position % size)
                .map_err(io(&self.chunk_path(chunk)))?;
            if touched.last() != Some(&chunk) {
                touched.push(chunk);
            }
            end = position + record.as_ref().len() as u64;
        }
        for chunk in &touched {
            let path = self.chunk_path(*chunk);
            let file = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io(&path))?;
            file.sync_data().map_err(io(&path))?;
        }
        let checkpoint_path = self.dir.join(CHECKPOINT);
        self.checkpoint
            .write_all_at(&end.to_le_bytes(), 0)
            .map_err(io(&checkpoint_path))?;
        self.checkpoint.sync_data().map_err(io(&checkpoint_path))?;

        self.end = end;
        for (position, record) in records {
            let stream = decode(record.as_ref())
                .expect("records are valid before they are written")
                .stream;
            self.used += record.as_ref().len() as u64;
            self.streams
                .entry(stream.to_owned())
                .or_default()
                .push(*position);
        }
        Ok(())
    }

    fn writer_for(&mut self, chunk: u64) -> Result<&File, LogError> {
        if self.writer.as_ref().is_none_or(|(n, _)| *n != chunk) {
            let path = self.chunk_path(chunk);
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io(&path))?;
            // A new chunk's name must be durable before the checkpoint points into it.
            File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .map_err(io(&self.dir))?;
            self.writer = Some((chunk, file));
        }
        Ok(&self.writer.as_ref().expect("just set").1)
    }

    /// Up to `max` events of `stream` from event number `from`.
    pub fn read_stream(
        &self,
        stream: &str,
        from: u64,
        max: usize,
    ) -> Result<Vec<RecordedEvent>, LogError> {
        let Some(positions) = self.streams.get(stream) else {
            return Ok(Vec::new());
        };
        positions
            .iter()
            .skip(from as usize)
            .take(max)
            .map(|position| self.read_at(*position))
            .collect()
    }

    /// The number of events in a stream.
    pub fn stream_length(&self, stream: &str) -> u64 {
        self.streams.get(stream).map_or(0, Vec::len) as u64
    }

    pub fn stream_names(&self) -> impl Iterator<Item = &str> {
        self.streams.keys().map(String::as_str)
    }

    fn read_at(&self, position: u64) -> Result<RecordedEvent, LogError> {
        let chunk = position / self.settings.chunk_size;
        let path = self.chunk_path(chunk);
        let file = File::open(&path).map_err(io(&path))?;
        let mut head = [0u8; 4];
        file.read_exact_at(&mut head, position % self.settings.chunk_size)
            .map_err(io(&path))?;
        let len = u32::from_le_bytes(head) as usize;
        let mut bytes = vec![0u8; len];
        file.read_exact_at(&mut bytes, position % self.settings.chunk_size)
            .map_err(io(&path))?;
        let damaged = |reason: String| LogError::Damaged {
            path: path.clone(),
            position,
            reason,
        };
        let record = decode(&bytes).map_err(damaged)?;
        let parse = |bytes: &[u8]| {
            serde_json::from_slice(bytes).map_err(|e| LogError::Damaged {
                path: path.clone(),
                position,
                reason: e.to_string(),
            })
        };
        Ok(RecordedEvent {
            stream: record.stream.to_owned(),
            event_number: record.number,
            position,
            event_id: record.event_id.to_owned(),
            event_type: record.event_type.to_owned(),
            data: parse(record.data)?,
            metadata: parse(record.metadata)?,
        })
    }
}

/// The name of the lock file in a volume.
pub const VOLUME_LOCK: &str = "volume.lock";

fn lock_volume(dir: &Path) -> Result<File, LogError> {
    use std::os::fd::AsRawFd;
    let path = dir.join(VOLUME_LOCK);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    // SAFETY: flock on a descriptor this function owns; released when the file is closed,
    // also when the process dies.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(LogError::VolumeInUse(dir.to_owned()));
    }
    Ok(file)
}

fn encode(stream: &str, number: u64, event: &NewEvent) -> Result<Vec<u8>, LogError> {
    if event.event_type.is_empty() || event.event_type.len() > MAX_NAME {
        return Err(LogError::InvalidEvent(format!(
            "eventType has 1 to {MAX_NAME} bytes"
        )));
    }
    if event.event_id.is_empty() || event.event_id.len() > MAX_NAME {
        return Err(LogError::InvalidEvent(format!(
            "eventId has 1 to {MAX_NAME} bytes"
        )));
    }
    let data = serde_json::to_vec(&event.data).expect("JSON values serialize");
    let metadata = serde_json::to_vec(&event.metadata).expect("JSON values serialize");
    let len = OVERHEAD
        + stream.len()
        + event.event_type.len()
        + event.event_id.len()
        + data.len()
        + metadata.len();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]); // crc, below
    out.extend_from_slice(&number.to_le_bytes());
    out.extend_from_slice(&(stream.len() as u16).to_le_bytes());
    out.extend_from_slice(stream.as_bytes());
    out.extend_from_slice(&(event.event_type.len() as u16).to_le_bytes());
    out.extend_from_slice(event.event_type.as_bytes());
    out.extend_from_slice(&(event.event_id.len() as u16).to_le_bytes());
    out.extend_from_slice(event.event_id.as_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out.extend_from_slice(&(metadata.len() as u32).to_le_bytes());
    out.extend_from_slice(&metadata);
    out.extend_from_slice(&(len as u32).to_le_bytes());
    debug_assert_eq!(out.len(), len);
    let crc = crc32fast::hash(&out[8..len - 4]);
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}

struct Decoded<'a> {
    len: usize,
    number: u64,
    stream: &'a str,
    event_type: &'a str,
    event_id: &'a str,
    data: &'a [u8],
    metadata: &'a [u8],
}

fn text(slice: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(slice).map_err(|_| "a name is not UTF-8".to_owned())
}

fn decode(bytes: &[u8]) -> Result<Decoded<'_>, String> {
    let take = |at: &mut usize, n: usize| -> Result<&[u8], String> {
        let slice = bytes.get(*at..*at + n).ok_or("the record is cut short")?;
        *at += n;
        Ok(slice)
    };
    let u16_at = |at: &mut usize| -> Result<usize, String> {
        Ok(u16::from_le_bytes(take(at, 2)?.try_into().expect("2 bytes")) as usize)
    };
    let u32_at = |at: &mut usize| -> Result<usize, String> {
        Ok(u32::from_le_bytes(take(at, 4)?.try_into().expect("4 bytes")) as usize)
    };
    let mut at = 0;
    let len = u32_at(&mut at)?;
    if len < OVERHEAD || len > bytes.len() {
        return Err(format!("a record length of {len} does not fit"));
    }
    let crc = u32_at(&mut at)? as u32;
    if crc32fast::hash(&bytes[8..len - 4]) != crc {
        return Err("checksum mismatch".into());
    }
    let number = u64::from_le_bytes(take(&mut at, 8)?.try_into().expect("8 bytes"));
    let n = u16_at(&mut at)?;
    let stream = text(take(&mut at, n)?)?;
    let n = u16_at(&mut at)?;
    let event_type = text(take(&mut at, n)?)?;
    let n = u16_at(&mut at)?;
    let event_id = text(take(&mut at, n)?)?;
    let n = u32_at(&mut at)?;
    let data = take(&mut at, n)?;
    let n = u32_at(&mut at)?;
    let metadata = take(&mut at, n)?;
    if u32_at(&mut at)? != len || at != len {
        return Err("the record's trailer does not match its length".into());
    }
    Ok(Decoded {
        len,
        number,
        stream,
        event_type,
        event_id,
        data,
        metadata,
    })
}
