//! One typed configuration, from (lowest first) built-in defaults, an optional TOML file, and
//! environment variables. Every bad value is an error that names where it came from.

use cairn_core::SiteConfig;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DATA_DIR: &str = "CAIRN_DATA_DIR";
pub const DATABASE_URL: &str = "CAIRN_DATABASE_URL";
pub const CONFIG_FILE: &str = "CAIRN_CONFIG";
pub const PROVIDER: &str = "CAIRN_PROVIDER";
pub const REGIONS: &str = "CAIRN_REGIONS";
pub const SITE_ADDR: &str = "LEPTOS_SITE_ADDR";
pub const SITE_ROOT: &str = "LEPTOS_SITE_ROOT";
pub const SNAPSHOT_READ_LIMIT: &str = "CAIRN_SNAPSHOT_READ_LIMIT";
pub const REPOSITORY_URL: &str = "CAIRN_REPOSITORY_URL";
pub const REPOSITORY_KEY: &str = "CAIRN_REPOSITORY_KEY";
pub const REPOSITORY_ENCRYPTION: &str = "CAIRN_REPOSITORY_ENCRYPTION";
pub const METRICS_TOKEN: &str = "CAIRN_METRICS_TOKEN";
pub const ADMIN_EMAIL: &str = "CAIRN_ADMIN_EMAIL";
pub const ADMIN_PASSWORD: &str = "CAIRN_ADMIN_PASSWORD";

/// Name of the optional configuration file looked for in the data directory.
pub const CONFIG_FILE_NAME: &str = "cairn.toml";

#[derive(Clone, PartialEq)]
pub struct Config {
    /// Where Cairn keeps its SQLite file and (later) volumes and snapshot repositories.
    pub data_dir: PathBuf,
    /// `sqlite://…` (default: `cairn.db` in the data dir) or `postgres://…`.
    pub database_url: String,
    /// Listen address of the console and API.
    pub site_addr: SocketAddr,
    /// Folder holding the built browser assets (`pkg/cairn.wasm`, `pkg/cairn.css`, …).
    pub site_root: PathBuf,
    /// Which configuration file was read, if any.
    pub config_file: Option<PathBuf>,
    pub site: SiteConfig,
    /// Bytes per second a backup reads from a live node's volume at most (`None`: no limit).
    pub snapshot_read_limit: Option<u64>,
    /// The first admin's email and password, created on first start when nobody exists yet.
    /// Environment only: a password does not belong in a file.
    pub first_admin: Option<(String, String)>,
    /// Where each region's snapshot repository is (regions not named: under the data dir).
    pub repositories: HashMap<String, Repository>,
    /// The key file of encrypted repositories (default: `repository.key` in the data dir).
    pub repository_key: PathBuf,
    /// Whether new repositories are encrypted (default: yes).
    pub encrypt_repositories: bool,
    /// A token that lets others than loopback read `/metrics` (environment only).
    pub metrics_token: Option<String>,
}

impl fmt::Debug for Config {
    /// Every field but the secrets (the first admin's password, the metrics token).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &cairn_store::redact(&self.database_url))
            .field("site_addr", &self.site_addr)
            .field("site_root", &self.site_root)
            .field("config_file", &self.config_file)
            .field("site", &self.site)
            .field("snapshot_read_limit", &self.snapshot_read_limit)
            .field(
                "first_admin",
                &self.first_admin.as_ref().map(|(email, _)| email),
            )
            .field("repositories", &self.repositories)
            .field("repository_key", &self.repository_key)
            .field("encrypt_repositories", &self.encrypt_repositories)
            .field("metrics_token", &masked(&self.metrics_token))
            .finish()
    }
}

/// A secret as `Debug` shows it: whether there is one, never what it is.
fn masked(secret: &Option<String>) -> Option<&'static str> {
    secret.as_ref().map(|_| "••••")
}

/// A region's snapshot repository: `file:///path`, a path, or `s3://bucket/prefix` with how to
/// reach the S3-compatible service. Its `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Repository {
    pub url: String,
    pub endpoint: Option<String>,
    pub s3_region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl fmt::Debug for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Repository")
            .field("url", &self.url)
            .field("endpoint", &self.endpoint)
            .field("s3_region", &self.s3_region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &masked(&self.secret_access_key))
            .finish()
    }
}

/// `[repositories.<region>]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRepository {
    url: String,
    endpoint: Option<String>,
    s3_region: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
}

/// A configuration value that cannot be used, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The environment variable or `file: key` that holds the bad value.
    pub source: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The TOML file's keys; unknown keys are an error so typos do not pass silently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    site_addr: Option<String>,
    site_root: Option<PathBuf>,
    provider: Option<String>,
    regions: Option<Vec<String>>,
    organization_name: Option<String>,
    project_name: Option<String>,
    snapshot_read_limit: Option<String>,
    repository_url: Option<String>,
    repository_key: Option<PathBuf>,
    repository_encryption: Option<String>,
    #[serde(default)]
    repositories: HashMap<String, FileRepository>,
}

impl Config {
    /// Reads the process environment (and the file it names, or `cairn.toml` in the data dir).
    pub fn from_env() -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Self::load(&env, dirs::data_dir())
    }

    /// Builds the configuration from an environment map; `user_data_dir` is the platform's
    /// per-user data folder (`~/.local/share` on Linux), used for the default data dir.
    pub fn load(
        env: &HashMap<String, String>,
        user_data_dir: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let var = |name: &str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());

        // The file is found first (it may move the data dir), but env always wins over it.
        let explicit_file = var(CONFIG_FILE).map(PathBuf::from);
        let env_data_dir = var(DATA_DIR).map(PathBuf::from);
        let default_data_dir = || -> Result<PathBuf, ConfigError> {
            user_data_dir
                .clone()
                .map(|d| d.join("cairn"))
                .ok_or_else(|| ConfigError {
                    source: DATA_DIR.into(),
                    message:
                        "no per-user data directory is known on this system; set it to a folder"
                            .into(),
                })
        };
        let (file, config_file) = match &explicit_file {
            Some(path) => (read_file(path, true)?, Some(path.clone())),
            None => {
                let dir = match &env_data_dir {
                    Some(dir) => dir.clone(),
                    None => default_data_dir()?,
                };
                let path = dir.join(CONFIG_FILE_NAME);
                let file = read_file(&path, false)?;
                let found = path.exists().then_some(path);
                (file, found)
            }
        };
        let file_name = config_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let from_file = |key: &str| format!("{file_name}: {key}");
        // A setting from the environment (which wins) or the file, with where it came from.
        let given = |name: &'static str, key: &str| (name, var(name), from_file(key));

        let data_dir = match (env_data_dir, file.data_dir) {
            (Some(dir), _) => dir,
            (None, Some(dir)) => dir,
            (None, None) => default_data_dir()?,
        };
        let data_dir = absolute(DATA_DIR, data_dir)?;

        let database_url = setting(
            given(DATABASE_URL, "database_url"),
            file.database_url.as_deref(),
            check_database_url,
        )?
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("cairn.db").display()));

        let site_addr = setting(
            given(SITE_ADDR, "site_addr"),
            file.site_addr.as_deref(),
            parse_addr,
        )?
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000)));

        let site_root = var(SITE_ROOT)
            .map(PathBuf::from)
            .or(file.site_root)
            .unwrap_or_else(|| PathBuf::from("target/site"));

        let defaults = SiteConfig::default();
        let provider = setting(
            given(PROVIDER, "provider"),
            file.provider.as_deref(),
            check_name,
        )?
        .unwrap_or(defaults.provider);
        let regions = match (var(REGIONS), file.regions) {
            (Some(list), _) => check_regions(REGIONS, list.split(',').map(str::trim))?,
            (None, Some(list)) => {
                check_regions(&from_file("regions"), list.iter().map(String::as_str))?
            }
            (None, None) => defaults.regions,
        };

        let snapshot_read_limit = setting(
            given(SNAPSHOT_READ_LIMIT, "snapshot_read_limit"),
            file.snapshot_read_limit.as_deref(),
            parse_rate,
        )?
        .flatten();

        let first_admin = match (var(ADMIN_EMAIL), env.get(ADMIN_PASSWORD)) {
            (Some(email), Some(password)) if !password.is_empty() => {
                Some((email.to_owned(), password.clone()))
            }
            (None, None) => None,
            (Some(_), _) => {
                return Err(ConfigError {
                    source: ADMIN_PASSWORD.into(),
                    message: format!("is needed with {ADMIN_EMAIL}"),
                })
            }
            (None, Some(_)) => {
                return Err(ConfigError {
                    source: ADMIN_EMAIL.into(),
                    message: format!("is needed with {ADMIN_PASSWORD}"),
                })
            }
        };

        let s3_env = |name: &str| var(name).map(str::to_owned);
        let s3_defaults = Repository {
            url: String::new(),
            endpoint: s3_env("AWS_ENDPOINT_URL").or_else(|| s3_env("AWS_ENDPOINT")),
            s3_region: s3_env("AWS_REGION").or_else(|| s3_env("AWS_DEFAULT_REGION")),
            access_key_id: s3_env("AWS_ACCESS_KEY_ID"),
            secret_access_key: s3_env("AWS_SECRET_ACCESS_KEY"),
        };
        let mut repositories = HashMap::new();
        // One base for every region (each in its own folder or prefix), then per region.
        let base = setting(
            given(REPOSITORY_URL, "repository_url"),
            file.repository_url.as_deref(),
            check_repository_url,
        )?;
        if let Some(base) = base {
            for region in &regions {
                let url = format!("{}/{region}", base.trim_end_matches('/'));
                repositories.insert(
                    region.clone(),
                    Repository {
                        url,
                        ..s3_defaults.clone()
                    },
                );
            }
        }
        for (region, place) in file.repositories {
            let key = from_file(&format!("repositories.{region}"));
            if !regions.contains(&region) {
                return Err(ConfigError {
                    source: key,
                    message: format!(
                        "region '{region}' is not one of the configured regions ({})",
                        regions.join(", ")
                    ),
                });
            }
            let url = check_repository_url(&format!("{key}.url"), &place.url)?;
            repositories.insert(
                region,
                Repository {
                    url,
                    endpoint: place.endpoint.or(s3_defaults.endpoint.clone()),
                    s3_region: place.s3_region.or(s3_defaults.s3_region.clone()),
                    access_key_id: place.access_key_id.or(s3_defaults.access_key_id.clone()),
                    secret_access_key: place
                        .secret_access_key
                        .or(s3_defaults.secret_access_key.clone()),
                },
            );
        }
        let repository_key = match (var(REPOSITORY_KEY), file.repository_key) {
            (Some(path), _) => PathBuf::from(path),
            (None, Some(path)) => path,
            (None, None) => data_dir.join("repository.key"),
        };
        let repository_key = absolute(REPOSITORY_KEY, repository_key)?;
        let encrypt_repositories = setting(
            given(REPOSITORY_ENCRYPTION, "repository_encryption"),
            file.repository_encryption.as_deref(),
            parse_switch,
        )?
        .unwrap_or(true);
        let metrics_token = var(METRICS_TOKEN).map(str::to_owned);

        Ok(Config {
            repositories,
            repository_key,
            encrypt_repositories,
            metrics_token,
            snapshot_read_limit,
            first_admin,
            data_dir,
            database_url,
            site_addr,
            site_root,
            config_file,
            site: SiteConfig {
                provider,
                regions,
                organization_name: file.organization_name.unwrap_or(defaults.organization_name),
                project_name: file.project_name.unwrap_or(defaults.project_name),
            },
        })
    }
}

/// A setting given in the environment (`name`, which wins) or in the file (`key`), read by
/// `check` under the name of where it was given; `None` where neither gives it.
fn setting<T>(
    (name, in_env, key): (&str, Option<&str>, String),
    in_file: Option<&str>,
    check: impl FnOnce(&str, &str) -> Result<T, ConfigError>,
) -> Result<Option<T>, ConfigError> {
    match (in_env, in_file) {
        (Some(text), _) => check(name, text).map(Some),
        (None, Some(text)) => check(&key, text).map(Some),
        (None, None) => Ok(None),
    }
}

/// A path that must not depend on the folder Cairn was started in.
fn absolute(source: &str, path: PathBuf) -> Result<PathBuf, ConfigError> {
    if path.is_relative() {
        return Err(ConfigError {
            source: source.into(),
            message: format!("'{}' must be an absolute path", path.display()),
        });
    }
    Ok(path)
}

fn read_file(path: &Path, must_exist: bool) -> Result<FileConfig, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
            return Ok(FileConfig::default())
        }
        Err(e) => {
            return Err(ConfigError {
                source: if must_exist {
                    CONFIG_FILE.into()
                } else {
                    path.display().to_string()
                },
                message: format!("cannot read {}: {e}", path.display()),
            })
        }
    };
    toml::from_str(&text).map_err(|e| ConfigError {
        source: path.display().to_string(),
        message: e.message().to_owned(),
    })
}

fn parse_addr(source: &str, text: &str) -> Result<SocketAddr, ConfigError> {
    text.parse().map_err(|_| ConfigError {
        source: source.into(),
        message: format!("'{text}' is not a listen address like 127.0.0.1:3000"),
    })
}

/// A rate in bytes per second: `50MiB`, `512KiB`, `1GiB`, a plain number of bytes, or `0` /
/// `none` for no limit.
fn parse_rate(source: &str, text: &str) -> Result<Option<u64>, ConfigError> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        _ => 0,
    };
    match number.parse::<u64>().ok().and_then(|n| n.checked_mul(scale)) {
        Some(0) if scale > 0 => Ok(None),
        Some(bytes) if scale > 0 => Ok(Some(bytes)),
        _ => Err(ConfigError {
            source: source.into(),
            message: format!(
                "'{text}' is not a rate like 50MiB (bytes per second; KiB, MiB, GiB; 0 or none for no limit)"
            ),
        }),
    }
}

fn parse_switch(source: &str, text: &str) -> Result<bool, ConfigError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Ok(true),
        "off" | "false" | "no" | "0" => Ok(false),
        _ => Err(ConfigError {
            source: source.into(),
            message: format!("'{text}' is neither on nor off"),
        }),
    }
}

/// A repository's place: `s3://bucket[/prefix]`, `file:///absolute/path` or an absolute path.
fn check_repository_url(source: &str, url: &str) -> Result<String, ConfigError> {
    let url = url.trim();
    let fail = |message: String| ConfigError {
        source: source.into(),
        message,
    };
    if let Some(rest) = url.strip_prefix("s3://") {
        if rest.is_empty() || rest.starts_with('/') {
            return Err(fail(format!(
                "'{url}' names no bucket: use s3://bucket/prefix"
            )));
        }
        if rest
            .split('/')
            .next()
            .is_some_and(|bucket| bucket.contains('@'))
        {
            return Err(fail(
                "credentials do not go in the URL (it is shown in the console): use \
                 access_key_id and secret_access_key, or AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY"
                    .into(),
            ));
        }
        return Ok(url.to_owned());
    }
    let path = url.strip_prefix("file://").unwrap_or(url);
    if url.contains("://") && !url.starts_with("file://") {
        return Err(fail(format!(
            "'{url}' is not a repository Cairn can use: file:///path or s3://bucket/prefix"
        )));
    }
    if !Path::new(path).is_absolute() {
        return Err(fail(format!("'{url}' must be an absolute path")));
    }
    Ok(path.to_owned())
}

fn check_database_url(source: &str, url: &str) -> Result<String, ConfigError> {
    let supported = ["sqlite:", "postgres:", "postgresql:"];
    if supported.iter().any(|scheme| url.starts_with(scheme)) {
        Ok(url.to_owned())
    } else {
        Err(ConfigError {
            source: source.into(),
            message: format!(
                "'{}' is not a database URL Cairn can use: sqlite://PATH or postgres://USER@HOST/DB",
                cairn_store::redact(url)
            ),
        })
    }
}

/// Provider and region names appear in URLs and folder names: keep them simple.
fn check_name(source: &str, name: &str) -> Result<String, ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-');
    if ok {
        Ok(name.to_owned())
    } else {
        Err(ConfigError {
            source: source.into(),
            message: format!(
                "'{name}' is not a valid name: use 1-40 lower-case letters, digits and dashes"
            ),
        })
    }
}

fn check_regions<'a>(
    source: &str,
    names: impl Iterator<Item = &'a str>,
) -> Result<Vec<String>, ConfigError> {
    let mut regions: Vec<String> = Vec::new();
    for name in names {
        let name = check_name(source, name)?;
        if regions.contains(&name) {
            return Err(ConfigError {
                source: source.into(),
                message: format!("region '{name}' is listed twice"),
            });
        }
        regions.push(name);
    }
    if regions.is_empty() {
        return Err(ConfigError {
            source: source.into(),
            message: "at least one region is needed".into(),
        });
    }
    Ok(regions)
}

#[cfg(test)]
mod tests;
