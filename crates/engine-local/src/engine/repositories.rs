//! The regions' snapshot repositories: where each is (`RepositorySettings`), opening the
//! existing ones with the configured key, creating the missing ones, and what each is.

use std::collections::HashMap;
use std::path::PathBuf;

use cairn_core::ports::EngineError;
use cairn_snapshot::{InitOptions, OpenOptions, Repository};

use super::{failed, LocalEngine};

/// Where each region's snapshot repository is kept and how it is opened.
#[derive(Debug, Clone, Default)]
pub struct RepositorySettings {
    /// Regions whose repository is somewhere else than `ROOT/<region>/snapshots`.
    pub places: HashMap<String, RepositoryPlace>,
    /// The key file encrypted repositories are opened with.
    pub key_file: Option<PathBuf>,
    /// Whether new repositories are encrypted with that key (made on first use, mode 0600).
    pub encrypt_new: bool,
}

/// A repository somewhere: `file:///path`, a plain path, or `s3://bucket/prefix` with how to
/// reach the S3-compatible service.
#[derive(Debug, Clone, Default)]
pub struct RepositoryPlace {
    pub url: String,
    pub s3: cairn_snapshot::S3Settings,
}

impl RepositoryPlace {
    fn storage(
        &self,
    ) -> Result<std::sync::Arc<dyn cairn_snapshot::Storage>, cairn_snapshot::Error> {
        Ok(if self.url.starts_with("s3://") {
            std::sync::Arc::new(cairn_snapshot::ObjectStorage::s3(&self.url, &self.s3)?)
        } else {
            std::sync::Arc::new(cairn_snapshot::ObjectStorage::create(&self.url)?)
        })
    }

    /// Where it is, as people read it: credentials are never in it (an endpoint written
    /// `https://user:secret@host` shows as `https://host`).
    pub fn describe(&self) -> String {
        match (&self.s3.endpoint, self.url.starts_with("s3://")) {
            (Some(endpoint), true) => format!("{} at {}", self.url, without_userinfo(endpoint)),
            _ => self.url.clone(),
        }
    }
}

/// `scheme://user:secret@host/…` without `user:secret@`.
pub(super) fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// What opening the regions' repositories found (see `LocalEngine::check_repositories`).
#[derive(Debug, Default)]
pub struct RepositoryCheck {
    pub ready: Vec<cairn_model::RepositoryFacts>,
    /// Regions with no repository at their place yet.
    pub missing: Vec<String>,
    /// Regions whose storage did not answer, with why.
    pub unreachable: Vec<(String, String)>,
}

/// Why a repository could not be opened: its key (stop), or its storage (try again later).
enum OpenFailure {
    Key(EngineError),
    Unreachable(EngineError),
}

impl OpenFailure {
    fn error(self) -> EngineError {
        match self {
            OpenFailure::Key(error) | OpenFailure::Unreachable(error) => error,
        }
    }
}

impl LocalEngine {
    /// Where the region's repository is.
    pub fn repository_place(&self, region: &str) -> RepositoryPlace {
        self.repository_settings
            .places
            .get(region)
            .cloned()
            .unwrap_or_else(|| RepositoryPlace {
                url: self
                    .root
                    .join(region)
                    .join("snapshots")
                    .display()
                    .to_string(),
                s3: Default::default(),
            })
    }

    fn open_options(&self) -> OpenOptions {
        OpenOptions {
            key_file: self.repository_settings.key_file.clone(),
            ..OpenOptions::default()
        }
    }

    /// The region's repository if it exists already (`None` when there is none yet), opened
    /// with the configured key. A wrong or missing key is an error saying which.
    async fn open_existing(&self, region: &str) -> Result<Option<Repository>, OpenFailure> {
        let place = self.repository_place(region);
        let context = format!(
            "the snapshot repository of region {region} ({})",
            place.describe()
        );
        let storage = place
            .storage()
            .map_err(|e| OpenFailure::Unreachable(failed(&context, e)))?;
        match Repository::open(storage, self.open_options()).await {
            Ok(repository) => Ok(Some(repository)),
            Err(cairn_snapshot::Error::NotARepository(_)) => Ok(None),
            Err(cairn_snapshot::Error::BadKeyFile { path, reason }) if !path.exists() => {
                Err(OpenFailure::Key(EngineError::Failed(format!(
                    "{context} is encrypted, and its key file {} is missing ({reason}): put back \
                     the copy you kept elsewhere; without it these backups cannot be read",
                    path.display()
                ))))
            }
            Err(
                error @ (cairn_snapshot::Error::BadKeyFile { .. }
                | cairn_snapshot::Error::WrongKey(_)
                | cairn_snapshot::Error::KeyRequired),
            ) => Err(OpenFailure::Key(failed(&context, error))),
            Err(error) => Err(OpenFailure::Unreachable(failed(&context, error))),
        }
    }

    /// The region's repository, created on first use (encrypted when a key file is set). The
    /// map of open ones is not held while storage is reached: a slow region holds up no other.
    pub(super) async fn repository(&self, region: &str) -> Result<Repository, EngineError> {
        if let Some(repository) = self.repositories.lock().await.get(region) {
            return Ok(repository.clone());
        }
        let repository = match self
            .open_existing(region)
            .await
            .map_err(OpenFailure::error)?
        {
            Some(repository) => repository,
            None => self.create(region).await?,
        };
        let mut open = self.repositories.lock().await;
        Ok(open.entry(region.to_owned()).or_insert(repository).clone())
    }

    async fn create(&self, region: &str) -> Result<Repository, EngineError> {
        let place = self.repository_place(region);
        let settings = &self.repository_settings;
        let init = InitOptions {
            key_file: settings.key_file.clone().filter(|_| settings.encrypt_new),
            ..InitOptions::default()
        };
        let context = format!("creating the snapshot repository at {}", place.describe());
        let storage = place.storage().map_err(|e| failed(&context, e))?;
        Repository::init(storage, init, self.open_options())
            .await
            .map_err(|e| failed(&context, e))
    }

    /// Opens every region's existing repository, creating none. A wrong or missing key is an
    /// error (found before anything new could be made with a new key); storage that does not
    /// answer is reported, and that region's repository is opened when first used.
    pub async fn check_repositories(
        &self,
        regions: &[String],
    ) -> Result<RepositoryCheck, EngineError> {
        let mut check = RepositoryCheck::default();
        for region in regions {
            match self.open_existing(region).await {
                Ok(Some(repository)) => {
                    check.ready.push(self.facts_of(region, &repository));
                    self.repositories
                        .lock()
                        .await
                        .insert(region.clone(), repository);
                }
                Ok(None) => check.missing.push(region.clone()),
                Err(OpenFailure::Key(error)) => return Err(error),
                Err(OpenFailure::Unreachable(error)) => {
                    check.unreachable.push((region.clone(), error.to_string()))
                }
            }
        }
        Ok(check)
    }

    /// Creates the repositories of `regions` (which have none yet).
    pub async fn create_repositories(
        &self,
        regions: &[String],
    ) -> Result<Vec<cairn_model::RepositoryFacts>, EngineError> {
        let mut facts = Vec::new();
        for region in regions {
            let repository = self.repository(region).await?;
            facts.push(self.facts_of(region, &repository));
        }
        Ok(facts)
    }

    pub(super) fn facts_of(
        &self,
        region: &str,
        repository: &Repository,
    ) -> cairn_model::RepositoryFacts {
        let encryption = repository.config().encryption.as_ref();
        cairn_model::RepositoryFacts {
            region: region.to_owned(),
            location: self.repository_place(region).describe(),
            encrypted: encryption.is_some(),
            key_fingerprint: encryption.map(|e| e.key_id.clone()),
            key_file: encryption.and(
                self.repository_settings
                    .key_file
                    .as_ref()
                    .map(|p| p.display().to_string()),
            ),
            problem: None,
        }
    }
}
