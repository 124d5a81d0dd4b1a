//! Repository locks, so that garbage collection never deletes what a running backup is about to
//! reference. Backups and restores hold shared locks; `gc` holds an exclusive one. Shared locks
//! also name the snapshots they use (a restore its snapshot, a backup its label), and deleting
//! a snapshot takes a shared lock that names what it deletes: the two conflict, so a snapshot is
//! never deleted under a restore of it, nor while the backup writing it is still running.
//!
//! Protocol (as restic's): write your own lock object first, then list the others. Two parties
//! that race both see each other, so at least one backs off; neither can miss the other. A lock
//! is refreshed while held and counts as abandoned once it has not been refreshed for
//! `stale_after` (a crashed process cannot hold the repository forever), or at once when it was
//! taken on this host by a process that no longer exists (a Cairn killed mid-backup must not
//! keep gc from collecting what it left for half an hour).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::crypto::Codec;
use crate::error::{Error, Result};
use crate::format::LOCKS;
use crate::storage::Storage;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockRecord {
    pub exclusive: bool,
    pub purpose: String,
    pub host: String,
    pub pid: u32,
    pub created: DateTime<Utc>,
    pub refreshed: DateTime<Utc>,
    /// Snapshots (ids or labels) this party reads or writes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uses: Vec<String>,
    /// Snapshots (ids or labels) this party deletes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forgets: Vec<String>,
}

/// What a party asks for when it takes a lock.
#[derive(Debug, Clone, Default)]
pub(crate) struct LockRequest {
    pub exclusive: bool,
    pub purpose: String,
    pub uses: Vec<String>,
    pub forgets: Vec<String>,
}

impl LockRequest {
    pub fn shared(purpose: &str) -> LockRequest {
        LockRequest {
            purpose: purpose.to_owned(),
            ..LockRequest::default()
        }
    }
}

impl LockRecord {
    /// Whether two parties may not hold their locks at the same time.
    fn conflicts_with(&self, other: &LockRecord) -> bool {
        let meets = |a: &[String], b: &[String]| a.iter().any(|x| b.contains(x));
        self.exclusive
            || other.exclusive
            || meets(&self.forgets, &other.uses)
            || meets(&self.uses, &other.forgets)
    }

    fn describe(&self) -> String {
        format!(
            "{} lock for {} by {} (pid {}) since {}",
            if self.exclusive {
                "an exclusive"
            } else {
                "a shared"
            },
            self.purpose,
            self.host,
            self.pid,
            self.created.format("%Y-%m-%d %H:%M:%S UTC")
        )
    }

    pub fn is_stale(&self, now: DateTime<Utc>, stale_after: Duration) -> bool {
        let expired = now - self.refreshed
            > chrono::Duration::from_std(stale_after).unwrap_or(chrono::TimeDelta::MAX);
        expired || (self.host == hostname() && !process_exists(self.pid))
    }
}

/// Whether a process with this id exists on this host (signal 0 checks without signalling).
fn process_exists(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only asks whether the process exists and may be signalled.
    let answer = unsafe { libc::kill(pid, 0) };
    answer == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[derive(Debug, Clone, Copy)]
pub struct LockSettings {
    /// How long to keep retrying while someone else holds a conflicting lock.
    pub wait: Duration,
    pub stale_after: Duration,
}

impl Default for LockSettings {
    fn default() -> Self {
        LockSettings {
            wait: Duration::from_secs(60),
            stale_after: Duration::from_secs(30 * 60),
        }
    }
}

/// A held lock. Call `release`; dropping without it removes the lock in the background.
pub struct LockGuard {
    storage: Arc<dyn Storage>,
    key: String,
    refresher: Option<tokio::task::JoinHandle<()>>,
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}

pub(crate) async fn acquire(
    storage: &Arc<dyn Storage>,
    codec: &Codec,
    settings: LockSettings,
    request: LockRequest,
) -> Result<LockGuard> {
    let mut name = [0u8; 16];
    getrandom::fill(&mut name).expect("the operating system's random source works");
    let key = format!("{LOCKS}{}", hex::encode(name));
    let now = Utc::now();
    let record = LockRecord {
        exclusive: request.exclusive,
        purpose: request.purpose,
        host: hostname(),
        pid: std::process::id(),
        created: now,
        refreshed: now,
        uses: request.uses,
        forgets: request.forgets,
    };
    let deadline = tokio::time::Instant::now() + settings.wait;
    let mut pause = Duration::from_millis(50);
    loop {
        let bytes = codec.encode_meta(&serde_json::to_vec(&record).expect("serializes"));
        if let Err(error) = storage.put(&key, bytes.into()).await {
            // The write may have landed all the same (a timeout after the fact): take it back.
            let _ = storage.delete(&key).await;
            return Err(error.into());
        }
        match conflict(storage, codec, &key, &record, settings.stale_after).await {
            Ok(None) => break,
            Ok(Some(holder)) => {
                storage.delete(&key).await?;
                if tokio::time::Instant::now() + pause > deadline {
                    return Err(Error::Locked(holder));
                }
            }
            Err(error) => {
                let _ = storage.delete(&key).await;
                return Err(error);
            }
        }
        // Jitter, so that two parties that keep seeing each other stop doing so in step.
        let mut jitter = [0u8; 1];
        getrandom::fill(&mut jitter).expect("random source");
        tokio::time::sleep(pause + Duration::from_millis(jitter[0] as u64)).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
    let refresher = tokio::spawn({
        let (storage, codec, key, mut record) =
            (storage.clone(), codec.clone(), key.clone(), record);
        let every = settings.stale_after / 4;
        async move {
            loop {
                tokio::time::sleep(every).await;
                record.refreshed = Utc::now();
                let bytes = codec.encode_meta(&serde_json::to_vec(&record).expect("serializes"));
                if let Err(error) = storage.put(&key, bytes.into()).await {
                    tracing::warn!(%error, "could not refresh the repository lock");
                }
            }
        }
    });
    Ok(LockGuard {
        storage: storage.clone(),
        key,
        refresher: Some(refresher),
    })
}

/// Locks this process released but could not delete yet: they bind nobody here.
fn abandoned() -> &'static std::sync::Mutex<std::collections::HashSet<String>> {
    static ABANDONED: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<String>>> =
        std::sync::OnceLock::new();
    ABANDONED.get_or_init(Default::default)
}

/// The description of a live lock that conflicts with ours, if any.
async fn conflict(
    storage: &Arc<dyn Storage>,
    codec: &Codec,
    own: &str,
    ours: &LockRecord,
    stale_after: Duration,
) -> Result<Option<String>> {
    let now = Utc::now();
    for listed in storage.list(LOCKS).await? {
        if listed.key == own
            || abandoned()
                .lock()
                .expect("abandoned locks")
                .contains(&listed.key)
        {
            continue;
        }
        let record = match storage.get(&listed.key).await {
            Ok(bytes) => read_record(codec, &bytes),
            Err(e) if e.is_not_found() => continue, // released meanwhile
            Err(e) => return Err(e.into()),
        };
        match record {
            Some(record) if record.is_stale(now, stale_after) => continue,
            Some(record) if ours.conflicts_with(&record) => return Ok(Some(record.describe())),
            Some(_) => continue,
            // Unreadable: it might be anyone's, so it blocks; `unlock` removes it.
            None => return Ok(Some(format!("an unreadable lock {}", listed.key))),
        }
    }
    Ok(None)
}

pub(crate) fn read_record(codec: &Codec, bytes: &[u8]) -> Option<LockRecord> {
    serde_json::from_slice(&codec.decode_meta(bytes).ok()?).ok()
}

impl LockGuard {
    pub async fn release(mut self) {
        if let Some(refresher) = self.refresher.take() {
            refresher.abort();
        }
        // A lock left behind blocks others until it goes stale: retried with pauses (a
        // storage that hiccups answers again), then in the background; meanwhile this process
        // knows it is no longer its lock.
        for pause in [0, 100, 500, 2000] {
            tokio::time::sleep(Duration::from_millis(pause)).await;
            match self.storage.delete(&self.key).await {
                Ok(()) => return,
                Err(error) => tracing::warn!(%error, "could not remove the repository lock"),
            }
        }
        abandoned()
            .lock()
            .expect("abandoned locks")
            .insert(self.key.clone());
        let (storage, key) = (self.storage.clone(), self.key.clone());
        tokio::spawn(async move {
            for _ in 0..360 {
                tokio::time::sleep(Duration::from_secs(10)).await;
                if storage.delete(&key).await.is_ok() {
                    abandoned().lock().expect("abandoned locks").remove(&key);
                    return;
                }
            }
        });
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some(refresher) = self.refresher.take() {
            refresher.abort();
            let (storage, key) = (self.storage.clone(), self.key.clone());
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    let _ = storage.delete(&key).await;
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(host: String, pid: u32, refreshed: DateTime<Utc>) -> LockRecord {
        LockRecord {
            exclusive: false,
            purpose: "backup".into(),
            host,
            pid,
            created: refreshed,
            refreshed,
            uses: Vec::new(),
            forgets: Vec::new(),
        }
    }

    #[test]
    fn deleting_a_snapshot_conflicts_only_with_whoever_uses_it_and_with_gc() {
        let now = Utc::now();
        let party = |uses: &[&str], forgets: &[&str], exclusive: bool| LockRecord {
            exclusive,
            uses: uses.iter().map(|s| s.to_string()).collect(),
            forgets: forgets.iter().map(|s| s.to_string()).collect(),
            ..record(hostname(), std::process::id(), now)
        };
        let forget_a = party(&[], &["a"], false);
        assert!(forget_a.conflicts_with(&party(&["a"], &[], false)));
        assert!(party(&["b", "a"], &[], false).conflicts_with(&forget_a));
        assert!(!forget_a.conflicts_with(&party(&["b"], &[], false)));
        assert!(!forget_a.conflicts_with(&party(&[], &["a"], false)));
        assert!(forget_a.conflicts_with(&party(&[], &[], true)));
        assert!(!party(&["a"], &[], false).conflicts_with(&party(&["a"], &[], false)));
    }

    fn exited_process() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn a_fresh_lock_of_a_running_process_holds() {
        let now = Utc::now();
        let lock = record(hostname(), std::process::id(), now);
        assert!(!lock.is_stale(now, Duration::from_secs(1800)));
    }

    #[test]
    fn a_lock_whose_process_on_this_host_is_gone_is_stale_at_once() {
        let now = Utc::now();
        let lock = record(hostname(), exited_process(), now);
        assert!(lock.is_stale(now, Duration::from_secs(1800)));
    }

    #[test]
    fn another_hosts_lock_is_stale_only_once_it_was_not_refreshed_in_time() {
        let now = Utc::now();
        let pid = exited_process();
        let lock = record("elsewhere.example".into(), pid, now);
        assert!(!lock.is_stale(now, Duration::from_secs(1800)));
        assert!(lock.is_stale(
            now + chrono::TimeDelta::seconds(1801),
            Duration::from_secs(1800)
        ));
    }
}
