//! Server side only (feature `ssr`): configuration, start-up, sign-in, the REST API and what
//! server functions need (the console's context, throttles). It never names the pages: the
//! router that puts pages and this together is `crate::router`.

pub(crate) mod api;
pub mod auth;
pub(crate) mod bodies;
pub mod config;
pub mod live;
pub mod metrics;
pub mod project;
pub mod sinks;
pub mod throttle;

#[cfg(test)]
mod account_tests;
#[cfg(test)]
mod projects_tests;

use crate::error::ConsoleError;
use cairn_core::{Place, Services, SystemClock};
use cairn_store::SqlStore;
use config::Config;
use leptos::prelude::use_context;
use std::sync::Arc;

/// What every server function needs: the core's use cases and the project the console acts in.
#[derive(Clone)]
pub struct Console {
    pub services: Services,
    /// The site's default project: where a request that names no project works, for
    /// everyone with a role there (see [`current_place`]).
    pub place: Place,
    /// The first-start setup code while nobody can sign in yet (see [`auth::first_start`]).
    pub setup_code: Option<Arc<str>>,
    pub data_dir: Option<std::path::PathBuf>,
    /// Rate limits of the sign-in, setup and token doors (see [`throttle`]).
    pub throttle: Arc<throttle::Throttle>,
    /// Lets others than loopback read `/metrics`.
    pub metrics_token: Option<Arc<str>>,
    /// Request latency by route, for `/metrics`.
    pub http_metrics: Arc<metrics::HttpMetrics>,
    /// The API's lists of backups as JSON, kept while they are current.
    pub(crate) listings: Arc<api::Listings>,
    /// Held for as long as any part of the console runs (none for consoles made by `new`).
    _data_dir_lock: Option<Arc<DataDirLock>>,
}

impl Console {
    /// A console over services made elsewhere (benchmarks, tests); it holds no data
    /// directory lock.
    pub fn new(services: Services, place: Place) -> Console {
        Console {
            services,
            place,
            setup_code: None,
            data_dir: None,
            throttle: Arc::default(),
            metrics_token: None,
            http_metrics: Arc::default(),
            listings: Arc::default(),
            _data_dir_lock: None,
        }
    }

    /// The same console, offering first-start setup with this code.
    pub fn with_setup_code(mut self, code: &str) -> Console {
        self.setup_code = Some(Arc::from(code));
        self
    }
}

/// The [`Console`] of the current request; provided to every page render and server fn call.
pub fn console() -> Result<Console, ConsoleError> {
    use_context::<Console>()
        .ok_or_else(|| ConsoleError::internal("the console's services were not provided"))
}

/// The project the current request works in: the one its address or form names
/// ([`project`]), else the signed-in user's first project (the console's default place when
/// they have a role there). A named project they have no role in is not found.
pub async fn current_place(
    console: &Console,
    principal: &cairn_core::Principal,
) -> Result<Place, ConsoleError> {
    let named = project::named()?;
    Ok(console
        .services
        .place_for(principal, named.as_ref(), &console.place)
        .await?)
}

/// The [`Console`] and the signed-in user's scope in the project the request works in
/// ([`current_place`]), for a user with any role there (none: not found). What the role
/// allows is the use case's to check, inside the audit, so that a refused change is recorded
/// like any other; the server functions only keep a caller it refuses from hearing what is
/// wrong with their input (`server_fns::judged`).
pub async fn authorized() -> Result<(Console, cairn_core::Scope), ConsoleError> {
    let console = console()?;
    let principal = auth::principal().ok_or_else(|| {
        ConsoleError::from(cairn_core::Error::Unauthenticated(
            "sign in first: your session has ended".into(),
        ))
    })?;
    let place = current_place(&console, &principal).await?;
    let scope = console
        .services
        .authorize(
            &principal,
            &place.organization_id,
            &place.project_id,
            cairn_model::Permission::Read,
        )
        .await?;
    Ok((console, scope))
}

/// Opens the store, seeds what first start needs, and returns the services.
pub async fn open(config: &Config) -> anyhow::Result<Console> {
    use anyhow::Context;
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {} (set {})",
            config.data_dir.display(),
            config::DATA_DIR
        )
    })?;
    let (lock, predecessor) = DataDirLock::take(&config.data_dir)?;
    let store = SqlStore::open(&config.database_url).await?;
    tracing::info!(
        store.backend = store.backend(),
        database.url = %cairn_store::redact(&config.database_url),
        "store opened"
    );
    // The embedded engine: clusters are `cairn node` processes of this very binary, with
    // volumes and a snapshot repository per region under the data directory.
    let launcher = cairn_engine_local::cluster::Launcher::this_binary()
        .context("cannot find this program's own path to start cluster nodes with")?;
    let engine = Arc::new(
        cairn_engine_local::engine::LocalEngine::new(config.data_dir.join("regions"), launcher)
            .with_snapshot_read_limit(config.snapshot_read_limit)
            .with_repositories(repository_settings(config)?),
    );
    // Every region's repository opened now: a wrong or missing key stops Cairn at start,
    // with the region and the key file named, instead of failing the first restore.
    let check = engine
        .check_repositories(&config.site.regions)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for (region, why) in &check.unreachable {
        tracing::warn!(%region, "snapshot repository unreachable now ({why}); its backups and restores wait for it");
    }
    let services = Services::builder(Arc::new(store), Arc::new(SystemClock), config.site.clone())
        .engine(engine.clone())
        .deliverer(Arc::new(sinks::SinkDeliverer::new()?))
        .replaces(predecessor)
        .build();
    // A region with available backups but no repository where it points was moved or lost:
    // refuse, rather than make a new empty one its backups would not restore from.
    services
        .refuse_new_repositories_under_backups(&check.missing)
        .await?;
    let created = engine
        .create_repositories(&check.missing)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for facts in check.ready.iter().chain(&created) {
        tracing::info!(
            region = %facts.region,
            repository = %facts.location,
            encrypted = facts.encrypted,
            key.fingerprint = facts.key_fingerprint.as_deref().unwrap_or("-"),
            "snapshot repository ready"
        );
    }
    lock.record(services.instance())?;
    let place = services.start().await?;
    let setup_code =
        auth::first_start(&services, config.first_admin.as_ref(), &config.data_dir).await?;
    Ok(Console {
        services,
        place,
        setup_code: setup_code.map(Arc::from),
        data_dir: Some(config.data_dir.clone()),
        metrics_token: config.metrics_token.as_deref().map(Arc::from),
        http_metrics: Arc::default(),
        throttle: Arc::default(),
        listings: Arc::default(),
        _data_dir_lock: Some(Arc::new(lock)),
    })
}

/// The engine's repository settings from the configuration; the key file is kept owner-only.
fn repository_settings(
    config: &Config,
) -> anyhow::Result<cairn_engine_local::engine::RepositorySettings> {
    use std::os::unix::fs::PermissionsExt;
    let key = &config.repository_key;
    if let Ok(metadata) = std::fs::metadata(key) {
        if metadata.permissions().mode() & 0o077 != 0 {
            match std::fs::set_permissions(key, std::fs::Permissions::from_mode(0o600)) {
                Ok(()) => {
                    tracing::warn!(key.file = %key.display(), "the repository key was readable by others: made owner-only (0600)")
                }
                // A read-only mount (a container's secret, say): say so, and go on.
                Err(error) => {
                    tracing::warn!(key.file = %key.display(), %error, "the repository key is readable by others and could not be made owner-only")
                }
            }
        }
    }
    let places = config
        .repositories
        .iter()
        .map(|(region, place)| {
            let place = cairn_engine_local::engine::RepositoryPlace {
                url: place.url.clone(),
                s3: cairn_snapshot::S3Settings {
                    endpoint: place.endpoint.clone(),
                    region: place.s3_region.clone(),
                    access_key_id: place.access_key_id.clone(),
                    secret_access_key: place.secret_access_key.clone(),
                },
            };
            (region.clone(), place)
        })
        .collect();
    Ok(cairn_engine_local::engine::RepositorySettings {
        places,
        key_file: Some(key.clone()),
        encrypt_new: config.encrypt_repositories,
    })
}

/// One Cairn per data directory: `cairn.lock` there is held (flock) while it runs, and names
/// the instance. Whoever takes the lock knows the instance named in it is dead: the kernel
/// releases the lock only when its holder is gone.
pub struct DataDirLock {
    file: std::fs::File,
}

impl DataDirLock {
    const FILE: &'static str = "cairn.lock";

    /// Takes the lock; returns it and the id of the instance that held it last, if any.
    fn take(data_dir: &std::path::Path) -> anyhow::Result<(DataDirLock, Option<String>)> {
        use anyhow::Context;
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let path = data_dir.join(Self::FILE);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        // SAFETY: flock on a descriptor owned here; the lock lives as long as `file`.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            anyhow::bail!(
                "another Cairn is running on the data directory {} (it holds {}); stop it or set {}",
                data_dir.display(),
                path.display(),
                config::DATA_DIR
            );
        }
        let mut previous = String::new();
        file.read_to_string(&mut previous)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let predecessor = previous.trim();
        let predecessor = (!predecessor.is_empty()).then(|| predecessor.to_owned());
        Ok((DataDirLock { file }, predecessor))
    }

    /// Names this instance in the lock file, for the next Cairn to find.
    fn record(&self, instance: &str) -> anyhow::Result<()> {
        use std::io::{Seek, Write};
        let mut file = &self.file;
        file.set_len(0)?;
        file.seek(std::io::SeekFrom::Start(0))?;
        file.write_all(instance.as_bytes())?;
        file.sync_all()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_cairn_on_the_same_data_directory_is_refused_and_the_next_learns_its_predecessor() {
        let dir = tempfile::tempdir().unwrap();
        let (first, predecessor) = DataDirLock::take(dir.path()).unwrap();
        assert_eq!(predecessor, None, "nothing ran here before");
        first.record("instance-one").unwrap();

        let refused = DataDirLock::take(dir.path())
            .err()
            .expect("the lock is held");
        assert!(
            refused.to_string().contains("another Cairn is running")
                && refused.to_string().contains("cairn.lock"),
            "{refused}"
        );

        drop(first);
        let (_second, predecessor) = DataDirLock::take(dir.path()).unwrap();
        assert_eq!(predecessor.as_deref(), Some("instance-one"));
    }
}
