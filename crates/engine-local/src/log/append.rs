//! Appending: records written at their positions and synced, then the checkpoint, so that
//! the checkpoint never points past data that is not on disk.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;

use super::record::{decode, encode, MAX_NAME};
use super::{io, EventLog, LogError, NewEvent, RecordedEvent, CHECKPOINT};

impl EventLog {
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
}
