//! Reading the log back: a stream's events, and raw records from a position for a follower.

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::record::decode;
use super::{io, EventLog, LogError, RecordedEvent};

impl EventLog {
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
