//! Passwords: argon2id hashing on the blocking pool, a few at a time, and the rules every
//! password follows.

use super::{HASHING_WAIT, MIN_PASSWORD_LEN};
use crate::error::{Error, Result};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Argon2 is built to be slow (tens of milliseconds of CPU and 19 MiB each): it runs on the
/// blocking pool, a few at a time, so a flood of sign-ins cannot stall pages and API calls nor
/// eat the memory. A sign-in that finds no free turn within its wait is refused
/// ([`Error::Unavailable`]) instead of joining a queue that grows without bound; a turn is held
/// until the hashing itself ends, even when the request that asked for it has gone.
pub struct Hashing {
    turns: std::sync::Arc<tokio::sync::Semaphore>,
    wait: std::time::Duration,
}

impl Hashing {
    pub fn new(turns: usize, wait: std::time::Duration) -> Hashing {
        Hashing {
            turns: std::sync::Arc::new(tokio::sync::Semaphore::new(turns)),
            wait,
        }
    }

    /// The process's one: two turns per core (hashing is CPU work), waiting [`HASHING_WAIT`].
    pub fn shared() -> &'static Hashing {
        static SHARED: std::sync::OnceLock<Hashing> = std::sync::OnceLock::new();
        SHARED.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            Hashing::new(2 * cores, HASHING_WAIT)
        })
    }

    /// How many turns are free now.
    pub fn free_turns(&self) -> usize {
        self.turns.available_permits()
    }

    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let turn = tokio::time::timeout(self.wait, self.turns.clone().acquire_owned())
            .await
            .map_err(|_| {
                Error::Unavailable("too many sign-ins at once; try again in a few seconds".into())
            })?
            .map_err(Error::internal)?;
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(turn);
            result
        })
        .await
        .map_err(Error::internal)
    }

    pub async fn hash_password(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(Error::internal)
        })
        .await?
    }

    pub async fn verify_password(&self, password: &str, stored: &str) -> Result<bool> {
        let (password, stored) = (password.to_owned(), stored.to_owned());
        self.run(move || password_matches(&password, &stored)).await
    }
}

pub(super) async fn hash_password(password: &str) -> Result<String> {
    Hashing::shared().hash_password(password).await
}

pub(super) async fn verify_password(password: &str, stored: &str) -> Result<bool> {
    Hashing::shared().verify_password(password, stored).await
}

pub(super) fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

pub(super) fn check_password(password: &str) -> Result<()> {
    password_rule(password).map_err(|message| Error::invalid("password", message))
}

/// What every password must be, on creation and on every change.
pub(super) fn password_rule(password: &str) -> std::result::Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!("at least {MIN_PASSWORD_LEN} characters"));
    }
    Ok(())
}

/// An argon2id hash of a password nobody has, checked when the email is unknown.
pub(super) const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2HUxSmFwVB3mEAbmAzT2/U9LSvjpUyf0NXL4Qn4BnOY";
