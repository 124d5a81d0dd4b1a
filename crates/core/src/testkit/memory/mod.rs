//! The in-memory store: its tables here, one `impl` of a store trait per aggregate beside.

use crate::access::Credential;
use crate::error::{Error, Result};
use crate::locks::ClusterLock;
use cairn_model::{
    Backup, BackupId, Cluster, ClusterId, Delivery, Event, Grant, HistoryId, HistoryItem,
    HistoryStatus, Integration, Job, JobId, Network, NetworkId, Organization, Project, ProjectId,
    User,
};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use tokio::sync::oneshot;

mod access;
mod audit;
mod backups;
mod clusters;
mod jobs;
mod outbox;
mod tenancy;

/// Keeps everything in memory, indexed the way the use cases read it, so it also carries the
/// scheduler benchmark's hundreds of thousands of runs. Lists come back in insertion order,
/// which is creation order in tests.
#[derive(Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
    /// A pause of the next `clusters_with_status`, before it reads.
    clusters_pause: Pause,
    /// A pause of the next `backups`, after it read and before it answers.
    backups_pause: Pause,
    /// A pause of the next `insert_backup`, after it wrote and before it answers.
    insert_backup_pause: Pause,
}

/// A one-time stop inside a store call: the receiver `arm` gives hears when the call got
/// there, and the call goes on once the sender is used (or dropped). For tests of what
/// happens between two steps of someone else.
#[derive(Default)]
struct Pause(Mutex<Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>>);

impl Pause {
    fn arm(&self) -> (oneshot::Receiver<()>, oneshot::Sender<()>) {
        let (arrived_tx, arrived_rx) = oneshot::channel();
        let (resume_tx, resume_rx) = oneshot::channel();
        *self.0.lock().unwrap() = Some((arrived_tx, resume_rx));
        (arrived_rx, resume_tx)
    }

    async fn here(&self) {
        let armed = self.0.lock().unwrap().take();
        if let Some((arrived, resume)) = armed {
            let _ = arrived.send(());
            let _ = resume.await;
        }
    }
}

impl InMemoryStore {
    /// Makes the next `clusters_with_status` stop before it reads (see [`Pause`]).
    pub fn pause_next_clusters_with_status(&self) -> (oneshot::Receiver<()>, oneshot::Sender<()>) {
        self.clusters_pause.arm()
    }

    /// Makes the next `backups` stop after it read, before it answers (see [`Pause`]).
    pub fn pause_next_backups(&self) -> (oneshot::Receiver<()>, oneshot::Sender<()>) {
        self.backups_pause.arm()
    }

    /// Makes the next `insert_backup` stop after it wrote, before it answers (see [`Pause`]).
    pub fn pause_next_insert_backup(&self) -> (oneshot::Receiver<()>, oneshot::Sender<()>) {
        self.insert_backup_pause.arm()
    }
}

/// Rows in insertion order plus an index by id.
struct Table<K, V> {
    rows: Vec<V>,
    index: HashMap<K, usize>,
}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Table<K, V> {
    fn insert(&mut self, key: K, row: V) -> usize {
        self.rows.push(row);
        self.index.insert(key, self.rows.len() - 1);
        self.rows.len() - 1
    }

    fn get(&self, key: &K) -> Option<&V> {
        self.index.get(key).map(|&i| &self.rows[i])
    }

    fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.index.get(key).map(|&i| &mut self.rows[i])
    }

    fn replace(&mut self, key: &K, row: V, what: &'static str, id: String) -> Result<()> {
        match self.index.get(key) {
            Some(&i) => {
                self.rows[i] = row;
                Ok(())
            }
            None => Err(Error::NotFound { what, id }),
        }
    }
}

#[derive(Default)]
struct State {
    organizations: Vec<Organization>,
    projects: Vec<Project>,
    networks: Table<NetworkId, Network>,
    clusters: Table<ClusterId, Cluster>,
    locks: HashMap<ClusterId, ClusterLock>,
    backups: Table<BackupId, Backup>,
    backups_by_job: HashMap<JobId, Vec<usize>>,
    backups_by_cluster: HashMap<ClusterId, u64>,
    jobs: Table<JobId, Job>,
    history: HashMap<HistoryId, HistoryItem>,
    /// Each job's runs in the order they started.
    history_by_job: HashMap<JobId, Vec<HistoryId>>,
    started_runs: HashSet<HistoryId>,
    /// Claimed runs: (job, due time).
    runs: HashSet<(JobId, DateTime<Utc>)>,
    last_due: HashMap<JobId, DateTime<Utc>>,
    schedule_from: HashMap<JobId, DateTime<Utc>>,
    heartbeats: HashMap<String, DateTime<Utc>>,
    deleted_projects: HashSet<ProjectId>,
    /// Users with their password hashes.
    users: Vec<(User, String)>,
    grants: Vec<Grant>,
    credentials: Vec<Credential>,
    integrations: Vec<Integration>,
    events: Vec<Event>,
    deliveries: Vec<Delivery>,
    audit: Vec<cairn_model::AuditEntry>,
}

impl State {
    fn push_history(&mut self, item: &HistoryItem) {
        self.history_by_job
            .entry(item.job_id.clone())
            .or_default()
            .push(item.id.clone());
        self.put_history(item);
    }

    /// Stores an item and keeps the indexes of runs by backup and of started runs.
    fn put_history(&mut self, item: &HistoryItem) {
        if item.status == HistoryStatus::Started {
            self.started_runs.insert(item.id.clone());
        } else {
            self.started_runs.remove(&item.id);
        }
        self.history.insert(item.id.clone(), item.clone());
    }
}
