//! Keys, and the codec that turns chunks and metadata into stored bytes and back:
//! zstd, then XChaCha20-Poly1305 when the repository is encrypted. The AEAD tag makes a wrong
//! key or a flipped bit an error, never garbage.

use std::io::Write;
use std::path::Path;

use chacha20poly1305::aead::{Aead, AeadInOut, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::error::{Error, Result};
use crate::format::ChunkId;

const KEY_FILE_HEADER: &str = "cairn-snapshot-key-v1";
const NONCE_LEN: usize = 24;

/// A repository's 256-bit master key. Sub-keys for data and chunk ids derive from it.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.id())
    }
}

impl Key {
    pub fn generate() -> Key {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source works");
        Key(bytes)
    }

    /// Reads a key file written by [`Key::create`].
    pub fn load(path: &Path) -> Result<Key> {
        let bad = |reason: &str| Error::BadKeyFile {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        let text = std::fs::read_to_string(path).map_err(|e| Error::BadKeyFile {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let mut parts = text.split_whitespace();
        if parts.next() != Some(KEY_FILE_HEADER) {
            return Err(bad(&format!("does not start with {KEY_FILE_HEADER}")));
        }
        let hex_key = parts.next().ok_or_else(|| bad("no key after the header"))?;
        let bytes = hex::decode(hex_key).map_err(|_| bad("the key is not hexadecimal"))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| bad("the key is not 32 bytes"))?;
        Ok(Key(bytes))
    }

    /// Writes a new random key to `path` (owner-readable only); never overwrites a file.
    pub fn create(path: &Path) -> Result<Key> {
        let key = Key::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(Error::io(path))?;
        writeln!(file, "{KEY_FILE_HEADER} {}", hex::encode(key.0)).map_err(Error::io(path))?;
        file.sync_all().map_err(Error::io(path))?;
        Ok(key)
    }

    /// Loads `path` if it exists, otherwise creates a key there.
    pub fn load_or_create(path: &Path) -> Result<Key> {
        if path.exists() {
            Key::load(path)
        } else {
            Key::create(path)
        }
    }

    /// A public fingerprint of the key, kept in the repository config to tell a wrong key at once.
    pub fn id(&self) -> String {
        hex::encode(&blake3::derive_key("cairn-snapshot 2026 key id", &self.0)[..16])
    }
}

/// How stored bytes are made: compression level, and the key when encrypted.
#[derive(Clone)]
pub(crate) struct Codec {
    level: i32,
    cipher: Option<XChaCha20Poly1305>,
    /// Chunk ids are keyed hashes when encrypted, so ids do not reveal content.
    id_key: Option<[u8; 32]>,
}

impl Codec {
    pub fn new(level: i32, key: Option<&Key>) -> Codec {
        let cipher = key.map(|k| {
            let data_key = blake3::derive_key("cairn-snapshot 2026 data", &k.0);
            XChaCha20Poly1305::new_from_slice(&data_key).expect("a 32-byte key")
        });
        let id_key = key.map(|k| blake3::derive_key("cairn-snapshot 2026 chunk id", &k.0));
        Codec {
            level,
            cipher,
            id_key,
        }
    }

    pub fn chunk_id(&self, data: &[u8]) -> ChunkId {
        crate::format::Hash32(match &self.id_key {
            Some(key) => *blake3::keyed_hash(key, data).as_bytes(),
            None => *blake3::hash(data).as_bytes(),
        })
    }

    pub fn seal(&self, plain: Vec<u8>) -> Vec<u8> {
        match &self.cipher {
            None => plain,
            Some(cipher) => {
                let mut nonce = [0u8; NONCE_LEN];
                getrandom::fill(&mut nonce).expect("the operating system's random source works");
                let sealed = cipher
                    .encrypt(&XNonce::from(nonce), plain.as_slice())
                    .expect("encryption of an in-memory buffer cannot fail");
                let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
                out.extend_from_slice(&nonce);
                out.extend_from_slice(&sealed);
                out
            }
        }
    }

    /// The inverse of `seal`; `Err` says why (the caller names the object).
    pub fn open(&self, stored: &[u8]) -> std::result::Result<Vec<u8>, String> {
        match &self.cipher {
            None => Ok(stored.to_vec()),
            Some(cipher) => {
                if stored.len() < NONCE_LEN + 16 {
                    return Err("too short to be encrypted data".into());
                }
                let (nonce, sealed) = stored.split_at(NONCE_LEN);
                let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("split at NONCE_LEN");
                cipher
                    .decrypt(&XNonce::from(nonce), sealed)
                    .map_err(|_| "authentication failed (tampered or damaged)".to_owned())
            }
        }
    }

    /// The chunk back from its stored bytes, checked against its id (one-off; loops use a
    /// `ChunkDecoder`).
    pub fn decode_chunk(
        &self,
        id: &ChunkId,
        stored: &[u8],
        raw_len: usize,
    ) -> std::result::Result<Vec<u8>, String> {
        let mut out = Vec::new();
        ChunkDecoder::new(self).decode(id, stored, raw_len, &mut out)?;
        Ok(out)
    }

    /// Metadata (index, manifest): compressed JSON or binary, sealed.
    pub fn encode_meta(&self, plain: &[u8]) -> Vec<u8> {
        self.seal(zstd::bulk::compress(plain, 3).expect("zstd compresses any input"))
    }

    pub fn decode_meta(&self, stored: &[u8]) -> std::result::Result<Vec<u8>, String> {
        let compressed = self.open(stored)?;
        zstd::stream::decode_all(compressed.as_slice())
            .map_err(|e| format!("does not decompress: {e}"))
    }
}

/// Compresses and seals chunks, keeping one zstd context for all of them (a thread's own).
pub(crate) struct ChunkEncoder<'c> {
    codec: &'c Codec,
    zstd: zstd::bulk::Compressor<'static>,
}

impl<'c> ChunkEncoder<'c> {
    pub fn new(codec: &'c Codec) -> Self {
        let zstd = zstd::bulk::Compressor::new(codec.level).expect("a valid zstd level");
        ChunkEncoder { codec, zstd }
    }

    /// A chunk as stored in a pack: compressed, then sealed.
    pub fn encode(&mut self, data: &[u8]) -> Vec<u8> {
        self.codec
            .seal(self.zstd.compress(data).expect("zstd compresses any input"))
    }
}

/// Opens, decompresses and checks chunks into a caller's buffer, reusing its zstd context
/// and scratch space: restore runs through gigabytes of chunks without allocating per chunk.
pub(crate) struct ChunkDecoder<'c> {
    codec: &'c Codec,
    zstd: zstd::bulk::Decompressor<'static>,
    scratch: Vec<u8>,
}

impl<'c> ChunkDecoder<'c> {
    pub fn new(codec: &'c Codec) -> Self {
        let zstd = zstd::bulk::Decompressor::new().expect("zstd allocates a context");
        ChunkDecoder {
            codec,
            zstd,
            scratch: Vec::new(),
        }
    }

    /// Decodes into `out` (replacing its contents); `Err` says why.
    pub fn decode(
        &mut self,
        id: &ChunkId,
        stored: &[u8],
        raw_len: usize,
        out: &mut Vec<u8>,
    ) -> std::result::Result<(), String> {
        let compressed: &[u8] = match &self.codec.cipher {
            None => stored,
            Some(cipher) => {
                if stored.len() < NONCE_LEN + 16 {
                    return Err("too short to be encrypted data".into());
                }
                let (nonce, sealed) = stored.split_at(NONCE_LEN);
                let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("split at NONCE_LEN");
                self.scratch.clear();
                self.scratch.extend_from_slice(sealed);
                cipher
                    .decrypt_in_place(&XNonce::from(nonce), b"", &mut self.scratch)
                    .map_err(|_| "authentication failed (tampered or damaged)".to_owned())?;
                &self.scratch
            }
        };
        out.clear();
        out.reserve(raw_len);
        let n = self
            .zstd
            .decompress_to_buffer(compressed, out)
            .map_err(|e| format!("chunk {} does not decompress: {e}", id.short()))?;
        if n != raw_len {
            return Err(format!(
                "chunk {} has {n} bytes, expected {raw_len}",
                id.short()
            ));
        }
        if self.codec.chunk_id(out) != *id {
            return Err(format!("chunk {} does not match its hash", id.short()));
        }
        Ok(())
    }
}
