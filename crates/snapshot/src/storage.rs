//! Where a repository's objects live. The repository needs only these six operations, so it
//! depends on this small trait rather than on all of `object_store`: that keeps the format code
//! independent of the store's API churn and lets tests wrap it (fault injection) in a few lines.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::error::Error;
pub use crate::error::{StorageError, StorageErrorKind};

/// An object listed under a prefix: its key relative to the repository root, and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub size: u64,
}

/// Object storage as the repository uses it. Keys are '/'-separated and relative to the
/// repository root. `put` must be atomic: an object is either absent or complete.
#[async_trait]
pub trait Storage: Send + Sync + fmt::Debug {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError>;
    async fn get(&self, key: &str) -> Result<Bytes, StorageError>;
    async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, StorageError>;
    /// The size of an object, or `None` when it does not exist.
    async fn head(&self, key: &str) -> Result<Option<u64>, StorageError>;
    /// Deleting an object that does not exist is not an error.
    async fn delete(&self, key: &str) -> Result<(), StorageError>;
    async fn list(&self, prefix: &str) -> Result<Vec<Listed>, StorageError>;
    /// Where this is, for messages: `file:///…` or `s3://…`.
    fn location(&self) -> String;
    /// Deletes uploads a killed writer left half-written, where the storage keeps them as
    /// files of their own (a local folder's `name#N` staging files, which listings do not
    /// show). Only safe while nobody writes: gc calls it under the exclusive lock.
    async fn remove_partial_uploads(&self) -> Result<u64, StorageError> {
        Ok(0)
    }
}

/// Where and how to reach S3-compatible storage. Empty fields fall back to object_store's
/// defaults (AWS itself, instance credentials). Its `Debug` never shows the secret.
#[derive(Clone, Default)]
pub struct S3Settings {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "••••"),
            )
            .finish()
    }
}

/// `Storage` over the `object_store` crate: the local filesystem or S3-compatible storage.
#[derive(Debug)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    root: ObjectPath,
    url: String,
    /// The folder of a local repository (`None` on S3).
    local_dir: Option<std::path::PathBuf>,
}

impl ObjectStorage {
    /// Opens `file:///path`, a plain path, or `s3://bucket/prefix`. S3 takes the usual
    /// environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL
    /// (plain http is allowed when the endpoint says http://).
    pub fn open(url: &str) -> Result<Self, Error> {
        let bad = |reason: String| Error::BadUrl {
            url: url.to_owned(),
            reason,
        };
        if url.starts_with("s3://") {
            let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
            let settings = S3Settings {
                endpoint: env("AWS_ENDPOINT_URL").or_else(|| env("AWS_ENDPOINT")),
                region: env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")),
                access_key_id: env("AWS_ACCESS_KEY_ID"),
                secret_access_key: env("AWS_SECRET_ACCESS_KEY"),
            };
            return Self::s3(url, &settings);
        }
        let path = match url.strip_prefix("file://") {
            Some(path) => path,
            None if url.contains("://") => {
                return Err(bad(
                    "only file:// and s3:// repositories are supported".into()
                ))
            }
            None => url,
        };
        if path.is_empty() {
            return Err(bad("empty path".into()));
        }
        let path = std::path::absolute(path).map_err(|e| bad(e.to_string()))?;
        if !path.is_dir() {
            return Err(Error::NotARepository(format!("file://{}", path.display())));
        }
        let store = object_store::local::LocalFileSystem::new_with_prefix(&path)
            .map_err(|e| bad(e.to_string()))?
            .with_automatic_cleanup(true);
        Ok(Self {
            store: Arc::new(store),
            root: ObjectPath::default(),
            url: format!("file://{}", path.display()),
            local_dir: Some(path),
        })
    }

    /// Like `open`, but a local directory that does not exist yet is made (for `init`).
    pub fn create(url: &str) -> Result<Self, Error> {
        let path = url.strip_prefix("file://").unwrap_or(url);
        if !url.contains("://") || url.starts_with("file://") {
            std::fs::create_dir_all(path).map_err(Error::io(path))?;
        }
        Self::open(url)
    }

    /// `s3://bucket/prefix` with explicit settings (what `open` reads from the environment).
    pub fn s3(url: &str, settings: &S3Settings) -> Result<Self, Error> {
        let bad = |reason: String| Error::BadUrl {
            url: url.to_owned(),
            reason,
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("does not start with s3://".into()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket name after s3://".into()));
        }
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(
                settings
                    .region
                    .clone()
                    .unwrap_or_else(|| "us-east-1".into()),
            );
        if let Some(endpoint) = &settings.endpoint {
            builder = builder
                .with_allow_http(endpoint.starts_with("http://"))
                .with_endpoint(endpoint);
        }
        if let (Some(id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        let store = builder.build().map_err(|e| bad(e.to_string()))?;
        Ok(Self {
            store: Arc::new(store),
            root: ObjectPath::from(prefix),
            url: url.to_owned(),
            // S3 keeps unfinished multipart uploads out of sight; a bucket lifecycle rule
            // ("abort incomplete multipart uploads") is what clears those.
            local_dir: None,
        })
    }

    fn path(&self, key: &str) -> ObjectPath {
        let mut path = self.root.clone();
        for part in key.split('/').filter(|p| !p.is_empty()) {
            path = path.clone().join(part);
        }
        path
    }

    fn relative(&self, path: &ObjectPath) -> String {
        let full = path.as_ref();
        let root = self.root.as_ref();
        if root.is_empty() {
            full.to_owned()
        } else {
            full.strip_prefix(root)
                .unwrap_or(full)
                .trim_start_matches('/')
                .to_owned()
        }
    }
}

fn convert(op: &'static str, key: &str, error: object_store::Error) -> StorageError {
    match error {
        object_store::Error::NotFound { .. } => StorageError {
            op,
            key: key.to_owned(),
            kind: StorageErrorKind::NotFound,
        },
        other => StorageError::other(op, key, other),
    }
}

#[async_trait]
impl Storage for ObjectStorage {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.store
            .put(&self.path(key), PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(|e| convert("put", key, e))
    }

    async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        let result = self
            .store
            .get(&self.path(key))
            .await
            .map_err(|e| convert("get", key, e))?;
        result.bytes().await.map_err(|e| convert("get", key, e))
    }

    async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, StorageError> {
        self.store
            .get_range(&self.path(key), range)
            .await
            .map_err(|e| convert("get", key, e))
    }

    async fn head(&self, key: &str) -> Result<Option<u64>, StorageError> {
        match self.store.head(&self.path(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(convert("head", key, e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(convert("delete", key, e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<Listed>, StorageError> {
        let path = self.path(prefix);
        let found: Vec<_> = self
            .store
            .list(Some(&path))
            .try_collect()
            .await
            .map_err(|e| convert("list", prefix, e))?;
        let mut listed: Vec<Listed> = found
            .into_iter()
            .map(|meta| Listed {
                key: self.relative(&meta.location),
                size: meta.size,
            })
            .collect();
        listed.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(listed)
    }

    fn location(&self) -> String {
        self.url.clone()
    }

    async fn remove_partial_uploads(&self) -> Result<u64, StorageError> {
        let Some(dir) = self.local_dir.clone() else {
            return Ok(0);
        };
        tokio::task::spawn_blocking(move || remove_staging_files(&dir))
            .await
            .map_err(|e| StorageError::other("sweep", "", e))?
    }
}

/// object_store writes a local object as `name#N` and renames it into place when complete:
/// such a file is an upload that never finished.
fn is_staging_file(name: &str) -> bool {
    name.rsplit_once('#').is_some_and(|(stem, n)| {
        !stem.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    })
}

fn remove_staging_files(root: &std::path::Path) -> Result<u64, StorageError> {
    let mut removed = 0;
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder)
            .map_err(|e| StorageError::other("sweep", &folder.display().to_string(), e))?;
        for entry in entries {
            let entry = entry
                .map_err(|e| StorageError::other("sweep", &folder.display().to_string(), e))?;
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if entry.file_name().to_str().is_some_and(is_staging_file) {
                match std::fs::remove_file(&path) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(StorageError::other("sweep", &path.display().to_string(), e))
                    }
                }
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod staging_tests {
    use super::*;

    #[test]
    fn only_names_ending_in_a_hash_and_digits_are_staging_files() {
        assert!(is_staging_file("c87ae6536cc5#1"));
        assert!(is_staging_file("config#12"));
        assert!(!is_staging_file("c87ae6536cc5"));
        assert!(!is_staging_file("a#b"));
        assert!(!is_staging_file("#1"));
        assert!(!is_staging_file("a#"));
    }

    #[tokio::test]
    async fn a_half_written_local_upload_is_removed_and_finished_objects_stay() {
        let dir = tempfile::tempdir().unwrap();
        let storage = ObjectStorage::open(dir.path().to_str().unwrap()).unwrap();
        storage
            .put("packs/ab/abcd", Bytes::from_static(b"pack"))
            .await
            .unwrap();
        std::fs::write(dir.path().join("packs/ab/abce#3"), b"half").unwrap();
        assert_eq!(storage.remove_partial_uploads().await.unwrap(), 1);
        assert!(!dir.path().join("packs/ab/abce#3").exists());
        assert_eq!(
            storage.get("packs/ab/abcd").await.unwrap(),
            Bytes::from_static(b"pack")
        );
    }
}
