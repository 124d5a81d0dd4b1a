//! The repository format, version 1.
//!
//! ```text
//! config                 JSON: format version, chunker, compression, encryption (plaintext, checksummed)
//! packs/ab/<pack id>     chunks, each zstd-compressed (and sealed); id = BLAKE3 of the pack's bytes
//! index/<index id>       where each chunk is: pack, offset, length; id = BLAKE3 of the object's bytes
//! snapshots/<id>         one manifest per snapshot, written last; id = BLAKE3 of the object's bytes
//! locks/<random>         who is using the repository (backup, restore: shared; gc: exclusive)
//! ```
//!
//! Every object but the config is named by the hash of its bytes, so any flipped bit anywhere is
//! found by comparing an object with its name, and objects are never rewritten in place.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const FORMAT_VERSION: u32 = 1;

/// A 256-bit BLAKE3 hash naming a chunk, a pack, an index or a snapshot.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash32(pub [u8; 32]);

pub type ChunkId = Hash32;
pub type PackId = Hash32;

impl Hash32 {
    pub fn of(bytes: &[u8]) -> Hash32 {
        Hash32(*blake3::hash(bytes).as_bytes())
    }
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
    /// The first 8 hex digits, as people read ids.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..4])
    }
    pub fn parse(text: &str) -> Option<Hash32> {
        let bytes = hex::decode(text).ok()?;
        Some(Hash32(bytes.try_into().ok()?))
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.short())
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl Serialize for Hash32 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

impl<'de> Deserialize<'de> for Hash32 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Hash32::parse(&text).ok_or_else(|| serde::de::Error::custom("not a 64-digit hex hash"))
    }
}

/// A file's hash: BLAKE3 over its chunks' ids and lengths, in order (as Dropbox's content
/// hash is over its blocks' hashes). The chunk ids are hashes of the content, so this names
/// the content as surely as a hash of the bytes, at a fraction of the cost: backup and restore
/// hash every byte once, not twice.
#[derive(Clone)]
pub struct FileHasher(blake3::Hasher);

impl Default for FileHasher {
    fn default() -> Self {
        FileHasher(blake3::Hasher::new_derive_key(
            "cairn-snapshot 2026 file hash",
        ))
    }
}

impl FileHasher {
    pub fn chunk(&mut self, id: &ChunkId, len: usize) {
        self.0.update(&id.0);
        self.0.update(&(len as u64).to_le_bytes());
    }
    pub fn finish(&self) -> Hash32 {
        Hash32(*self.0.finalize().as_bytes())
    }
}

pub const CONFIG_KEY: &str = "config";
pub const PACKS: &str = "packs/";
pub const INDEX: &str = "index/";
pub const SNAPSHOTS: &str = "snapshots/";
pub const LOCKS: &str = "locks/";

pub fn pack_key(id: &PackId) -> String {
    let hex = id.hex();
    format!("{PACKS}{}/{hex}", &hex[..2])
}

pub fn index_key(id: &Hash32) -> String {
    format!("{INDEX}{}", id.hex())
}

pub fn snapshot_key(id: &Hash32) -> String {
    format!("{SNAPSHOTS}{}", id.hex())
}

/// The hash a listed key names (`packs/ab/<hex>` → hex), if it is well formed.
pub fn id_from_key(key: &str) -> Option<Hash32> {
    Hash32::parse(key.rsplit('/').next()?)
}

/// Content-defined chunking parameters. Fixed at `init`: changing them would stop dedup
/// against earlier snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkerParams {
    pub min_size: u32,
    pub avg_size: u32,
    pub max_size: u32,
}

impl Default for ChunkerParams {
    fn default() -> Self {
        ChunkerParams {
            min_size: 256 * 1024,
            avg_size: 1024 * 1024,
            max_size: 4 * 1024 * 1024,
        }
    }
}

impl ChunkerParams {
    pub fn check(&self) -> Result<()> {
        use fastcdc::v2020::{
            AVERAGE_MAX, AVERAGE_MIN, MAXIMUM_MAX, MAXIMUM_MIN, MINIMUM_MAX, MINIMUM_MIN,
        };
        let (min, avg, max) = (
            self.min_size as usize,
            self.avg_size as usize,
            self.max_size as usize,
        );
        let bad = |reason: String| {
            Err(Error::InvalidSetting {
                name: "chunker",
                reason,
            })
        };
        if !(MINIMUM_MIN..=MINIMUM_MAX).contains(&min) {
            return bad(format!(
                "min_size {min} is outside {MINIMUM_MIN}..={MINIMUM_MAX}"
            ));
        }
        if !(AVERAGE_MIN..=AVERAGE_MAX).contains(&avg) {
            return bad(format!(
                "avg_size {avg} is outside {AVERAGE_MIN}..={AVERAGE_MAX}"
            ));
        }
        if !(MAXIMUM_MIN..=MAXIMUM_MAX).contains(&max) {
            return bad(format!(
                "max_size {max} is outside {MAXIMUM_MIN}..={MAXIMUM_MAX}"
            ));
        }
        if !(min <= avg && avg <= max) {
            return bad(format!(
                "need min_size <= avg_size <= max_size, got {min}, {avg}, {max}"
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptionConfig {
    /// Always "xchacha20-poly1305" in format 1.
    pub cipher: String,
    /// The key file used when none is given on the command line.
    pub key_file: String,
    /// The key's public fingerprint: a wrong key is told at open, not at the first chunk.
    pub key_id: String,
}

/// The repository's config object: everything needed to read and write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoConfig {
    pub version: u32,
    pub id: String,
    pub created: DateTime<Utc>,
    pub chunker: ChunkerParams,
    pub compression_level: i32,
    /// Packs are sealed once they reach this many bytes.
    pub pack_size: u32,
    pub encryption: Option<EncryptionConfig>,
}

#[derive(Serialize, Deserialize)]
struct ConfigObject {
    config: RepoConfig,
    /// BLAKE3 of the config's JSON, so that a damaged config is told, not misread.
    checksum: String,
}

impl RepoConfig {
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = serde_json::to_vec(self).expect("config serializes");
        let object = ConfigObject {
            config: self.clone(),
            checksum: blake3::hash(&body).to_hex().to_string(),
        };
        serde_json::to_vec_pretty(&object).expect("config serializes")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<RepoConfig> {
        let object: ConfigObject = serde_json::from_slice(bytes)
            .map_err(|e| Error::corrupt(CONFIG_KEY, format!("not a repository config: {e}")))?;
        let body = serde_json::to_vec(&object.config).expect("config serializes");
        if blake3::hash(&body).to_hex().as_str() != object.checksum {
            return Err(Error::corrupt(
                CONFIG_KEY,
                "checksum does not match its contents",
            ));
        }
        if object.config.version > FORMAT_VERSION {
            return Err(Error::UnsupportedVersion(object.config.version));
        }
        Ok(object.config)
    }
}

/// Where a chunk is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub pack: PackId,
    pub offset: u32,
    pub stored_len: u32,
    pub raw_len: u32,
}

/// One index object: chunk → location, for one or more packs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexObject {
    pub entries: Vec<(ChunkId, Location)>,
}

const INDEX_MAGIC: &[u8; 8] = b"CAIRNIX1";

impl IndexObject {
    /// Compact binary: a table of packs, then fixed-size entries (hashes do not compress).
    pub fn encode(&self) -> Vec<u8> {
        let mut packs: BTreeMap<PackId, u32> = BTreeMap::new();
        for (_, loc) in &self.entries {
            let next = packs.len() as u32;
            packs.entry(loc.pack).or_insert(next);
        }
        let mut by_number: Vec<(u32, PackId)> = packs.iter().map(|(id, n)| (*n, *id)).collect();
        by_number.sort();
        let mut out = Vec::with_capacity(16 + 32 * packs.len() + 48 * self.entries.len());
        out.extend_from_slice(INDEX_MAGIC);
        out.extend_from_slice(&(packs.len() as u32).to_le_bytes());
        for (_, id) in &by_number {
            out.extend_from_slice(&id.0);
        }
        out.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for (chunk, loc) in &self.entries {
            out.extend_from_slice(&chunk.0);
            for n in [packs[&loc.pack], loc.offset, loc.stored_len, loc.raw_len] {
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> std::result::Result<IndexObject, String> {
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(8)? != INDEX_MAGIC {
            return Err("not an index (bad magic)".into());
        }
        let pack_count = reader.u32()? as usize;
        let mut packs = Vec::with_capacity(pack_count.min(1 << 20));
        for _ in 0..pack_count {
            packs.push(Hash32(reader.take(32)?.try_into().expect("32 bytes")));
        }
        let entry_count = reader.u32()? as usize;
        let mut entries = Vec::with_capacity(entry_count.min(1 << 24));
        for _ in 0..entry_count {
            let chunk = Hash32(reader.take(32)?.try_into().expect("32 bytes"));
            let pack = *packs
                .get(reader.u32()? as usize)
                .ok_or("entry names a pack not in the table")?;
            let (offset, stored_len, raw_len) = (reader.u32()?, reader.u32()?, reader.u32()?);
            entries.push((
                chunk,
                Location {
                    pack,
                    offset,
                    stored_len,
                    raw_len,
                },
            ));
        }
        if reader.at != bytes.len() {
            return Err("trailing bytes after the entries".into());
        }
        Ok(IndexObject { entries })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or("truncated")?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }
    fn u32(&mut self) -> std::result::Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
}

/// What a snapshot holds: its tree, and the facts of how it was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub time: DateTime<Utc>,
    pub hostname: String,
    /// The directory that was backed up (canonical).
    pub source: String,
    /// What the caller calls this snapshot (the engine: the backup's id), to find it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub stats: SnapshotStats,
    /// Parents before children, in path order.
    pub entries: Vec<Entry>,
}

/// The numbers of a snapshot, also returned by `backup` (see `Summary`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotStats {
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    /// Bytes of all regular files.
    pub bytes: u64,
    /// Bytes of chunks that the repository did not have before.
    pub new_bytes: u64,
    /// What those new chunks take in the repository (compressed, sealed).
    pub stored_bytes: u64,
    /// Special files (sockets, fifos, devices) that were left out.
    pub skipped: u64,
    /// Files found unchanged since the parent snapshot, so not read again.
    #[serde(default)]
    pub unchanged_files: u64,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Relative to the snapshot root, '/'-separated.
    pub path: String,
    pub mode: u32,
    pub mtime: i64,
    pub mtime_nanos: u32,
    /// For files: what tells the next backup that the file did not change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<Stamp>,
    #[serde(flatten)]
    pub kind: EntryKind,
}

/// Inode and change time: with size and mtime, what `backup` compares to skip reading a file
/// that has not changed since the parent snapshot (as restic and borg do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub inode: u64,
    pub ctime: i64,
    pub ctime_nanos: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntryKind {
    Dir,
    File {
        size: u64,
        hash: Hash32,
        chunks: Vec<ChunkId>,
    },
    Symlink {
        target: String,
    },
}

impl Manifest {
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("manifest serializes")
    }

    pub fn from_json(bytes: &[u8]) -> std::result::Result<Manifest, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("not a manifest: {e}"))
    }

    pub fn files(&self) -> impl Iterator<Item = (&Entry, u64, &Hash32, &[ChunkId])> {
        self.entries.iter().filter_map(|e| match &e.kind {
            EntryKind::File { size, hash, chunks } => Some((e, *size, hash, chunks.as_slice())),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(pack: u8, offset: u32) -> Location {
        Location {
            pack: Hash32([pack; 32]),
            offset,
            stored_len: 10,
            raw_len: 20,
        }
    }

    #[test]
    fn an_index_decodes_to_what_was_encoded() {
        let index = IndexObject {
            entries: vec![
                (Hash32([1; 32]), location(9, 0)),
                (Hash32([2; 32]), location(8, 10)),
                (Hash32([3; 32]), location(9, 10)),
            ],
        };
        assert_eq!(IndexObject::decode(&index.encode()).unwrap(), index);
    }

    #[test]
    fn a_truncated_index_is_an_error_not_a_shorter_index() {
        let index = IndexObject {
            entries: vec![(Hash32([1; 32]), location(9, 0))],
        };
        let bytes = index.encode();
        for cut in 0..bytes.len() {
            assert!(IndexObject::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn a_damaged_config_is_refused_by_its_checksum() {
        let config = RepoConfig {
            version: 1,
            id: "abc".into(),
            created: Utc::now(),
            chunker: ChunkerParams::default(),
            compression_level: 1,
            pack_size: 16 << 20,
            encryption: None,
        };
        let bytes = config.to_bytes();
        assert_eq!(RepoConfig::from_bytes(&bytes).unwrap(), config);
        let text = String::from_utf8(bytes)
            .unwrap()
            .replace("\"compression_level\": 1", "\"compression_level\": 2");
        assert!(matches!(
            RepoConfig::from_bytes(text.as_bytes()),
            Err(Error::Corrupt { .. })
        ));
    }

    #[test]
    fn chunker_parameters_outside_fastcdc_limits_are_refused_with_the_reason() {
        let params = ChunkerParams {
            min_size: 1024,
            avg_size: 512,
            max_size: 4096,
        };
        let message = params.check().unwrap_err().to_string();
        assert!(message.contains("avg_size"), "{message}");
    }
}
