//! Resource ids: 20-character lowercase base32hex xids, as Kurrent Cloud uses.
//!
//! An xid is 12 bytes: a 4-byte big-endian unix time, a 3-byte machine id, a 2-byte process
//! id and a 3-byte counter. Because the time is inside the id, a resource's `created` can be
//! read back from its id, and ids sort by creation time.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
/// Length of an encoded id.
pub const ID_LEN: usize = 20;

/// The 12 raw bytes of an xid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RawId(pub [u8; 12]);

impl RawId {
    /// Assembles an id from its parts; the counter keeps its low 24 bits.
    pub fn from_parts(unix_seconds: u32, machine: [u8; 3], pid: u16, counter: u32) -> Self {
        let mut b = [0u8; 12];
        b[0..4].copy_from_slice(&unix_seconds.to_be_bytes());
        b[4..7].copy_from_slice(&machine);
        b[7..9].copy_from_slice(&pid.to_be_bytes());
        b[9..12].copy_from_slice(&counter.to_be_bytes()[1..4]);
        RawId(b)
    }

    pub fn unix_seconds(&self) -> u32 {
        u32::from_be_bytes([self.0[0], self.0[1], self.0[2], self.0[3]])
    }

    /// The creation time encoded in the id (second precision).
    pub fn time(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(i64::from(self.unix_seconds()), 0)
            .single()
            .expect("every u32 second count is a valid time")
    }

    /// Base32hex without padding: 96 bits in 20 characters (the last one carries 1 bit less).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(ID_LEN);
        let mut acc: u32 = 0;
        let mut bits = 0;
        for &byte in &self.0 {
            acc = (acc << 8) | u32::from(byte);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
            }
        }
        if bits > 0 {
            out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
        }
        out
    }

    pub fn decode(text: &str) -> Result<Self, IdError> {
        if text.len() != ID_LEN {
            return Err(IdError::Length(text.len()));
        }
        let mut bytes = Vec::with_capacity(12);
        let mut acc: u32 = 0;
        let mut bits = 0;
        for (position, c) in text.bytes().enumerate() {
            let value = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'v' => c - b'a' + 10,
                _ => {
                    return Err(IdError::Character {
                        position,
                        found: c as char,
                    })
                }
            };
            acc = (acc << 5) | u32::from(value);
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                bytes.push((acc >> bits) as u8);
            }
        }
        // 20 chars carry 100 bits; the 4 spare bits must be zero for the id to be canonical.
        if acc & ((1 << bits) - 1) != 0 {
            return Err(IdError::NotCanonical);
        }
        let mut raw = [0u8; 12];
        raw.copy_from_slice(&bytes[..12]);
        Ok(RawId(raw))
    }
}

/// Why a string is not an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdError {
    Length(usize),
    Character { position: usize, found: char },
    NotCanonical,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdError::Length(n) => write!(f, "an id has {ID_LEN} characters, not {n}"),
            IdError::Character { position, found } => write!(
                f,
                "an id uses only 0-9 and a-v; found '{found}' at position {}",
                position + 1
            ),
            IdError::NotCanonical => write!(f, "the last character of the id is not canonical"),
        }
    }
}

impl std::error::Error for IdError {}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks the text is a well-formed id.
            pub fn parse(text: &str) -> Result<Self, IdError> {
                RawId::decode(text).map(|_| Self(text.to_owned()))
            }
            pub fn from_raw(raw: RawId) -> Self {
                Self(raw.encode())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// The creation time inside the id, if it is well-formed.
            pub fn time(&self) -> Option<DateTime<Utc>> {
                RawId::decode(&self.0).ok().map(|raw| raw.time())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// An organization's id.
    OrganizationId
);
id_type!(
    /// A project's id.
    ProjectId
);
id_type!(
    /// A network's id.
    NetworkId
);
id_type!(
    /// A cluster's id.
    ClusterId
);
id_type!(
    /// A backup's id.
    BackupId
);
id_type!(
    /// A scheduled job's id.
    JobId
);
id_type!(
    /// A job history item's id.
    HistoryId
);
id_type!(
    /// A console user's id.
    UserId
);
id_type!(
    /// The id of an API token (a refresh token); never the secret itself.
    TokenId
);
id_type!(
    /// An integration's id.
    IntegrationId
);
id_type!(
    /// An event's id (a notification or an issue).
    EventId
);
id_type!(
    /// The id of one message's delivery to one integration.
    DeliveryId
);
id_type!(
    /// The id of one entry of the audit log.
    AuditId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_xid_decodes_to_its_creation_time_and_encodes_back() {
        // From Kurrent Cloud's docs: backup created 2021-03-26T14:38:12Z.
        let raw = RawId::decode("c1ev3l5o0aeu6ojco7b0").unwrap();
        assert_eq!(raw.time().to_rfc3339(), "2021-03-26T14:38:12+00:00");
        assert_eq!(raw.encode(), "c1ev3l5o0aeu6ojco7b0");
    }

    #[test]
    fn ids_built_from_parts_round_trip_and_sort_by_time() {
        let early = RawId::from_parts(1_700_000_000, [1, 2, 3], 42, 7);
        let late = RawId::from_parts(1_700_000_001, [0, 0, 0], 0, 0);
        assert_eq!(RawId::decode(&early.encode()).unwrap(), early);
        assert!(early.encode() < late.encode());
        assert_eq!(early.unix_seconds(), 1_700_000_000);
    }

    #[test]
    fn malformed_ids_are_refused_with_the_reason() {
        assert_eq!(ClusterId::parse("short"), Err(IdError::Length(5)));
        assert_eq!(
            ClusterId::parse("c1ev3l5o0aeu6ojco7bZ"),
            Err(IdError::Character {
                position: 19,
                found: 'Z'
            })
        );
        assert_eq!(
            ClusterId::parse("c1ev3l5o0aeu6ojco7b1"),
            Err(IdError::NotCanonical)
        );
        assert!(ClusterId::parse("c1ev3l5o0aeu6ojco7b0").is_ok());
    }

    #[test]
    fn an_id_serializes_as_a_plain_string() {
        let id = NetworkId::parse("c1ev3l5o0aeu6ojco7b0").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"c1ev3l5o0aeu6ojco7b0\""
        );
    }
}
