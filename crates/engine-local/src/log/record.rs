//! A record's bytes: length, CRC, event number, stream, type, id, data and metadata, and the
//! length again at the end, so that a torn or damaged record is told from a whole one.

use super::{LogError, NewEvent};

pub(super) const MAX_NAME: usize = u16::MAX as usize;
/// len + crc + event number + lengths of the four fields + trailing len.
const OVERHEAD: usize = 4 + 4 + 8 + 2 + 2 + 4 + 4 + 2 + 4;

pub(super) fn encode(stream: &str, number: u64, event: &NewEvent) -> Result<Vec<u8>, LogError> {
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

pub(super) struct Decoded<'a> {
    pub(super) len: usize,
    pub(super) number: u64,
    pub(super) stream: &'a str,
    pub(super) event_type: &'a str,
    pub(super) event_id: &'a str,
    pub(super) data: &'a [u8],
    pub(super) metadata: &'a [u8],
}

fn text(slice: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(slice).map_err(|_| "a name is not UTF-8".to_owned())
}

pub(super) fn decode(bytes: &[u8]) -> Result<Decoded<'_>, String> {
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
