//! Test doubles for the ports: an in-memory [`Store`] and a [`Clock`] that only moves when
//! told. Compiled for this crate's tests and, with the `testkit` feature, for other crates'.

use crate::access::{Credential, CredentialKind};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::locks::{ClusterLock, LockOutcome};
use crate::ports::{
    ClusterChange, ClusterPatch, Engine, EngineError, Notification, Notifier, ProgressSink,
    Renamable, SnapshotFacts, Store,
};
use crate::site::SeedPlan;
use async_trait::async_trait;
use cairn_model::{
    Backup, BackupId, BackupStatus, Cluster, ClusterAddresses, ClusterHealth, ClusterId,
    ClusterStatus, Delivery, DeliveryStatus, Event, EventId, Grant, HistoryId, HistoryItem,
    HistoryStatus, Integration, IntegrationId, IssueStatus, Job, JobId, JobStatus, Network,
    NetworkId, NetworkStatus, Organization, OrganizationId, Progress, Project, ProjectId, TokenId,
    User, UserId,
};
use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use tokio::sync::{oneshot, watch};

/// A clock that stands still until advanced or set; sleepers wake when it passes their time.
pub struct ManualClock(watch::Sender<DateTime<Utc>>);

impl ManualClock {
    /// Panics on a malformed time: it is a test's literal.
    pub fn at(rfc3339: &str) -> Self {
        Self(watch::channel(rfc3339.parse().expect("an RFC 3339 time")).0)
    }

    pub fn advance(&self, by: Duration) {
        self.0.send_modify(|now| *now += by);
    }

    pub fn set(&self, to: DateTime<Utc>) {
        self.0.send_replace(to);
    }
}

#[async_trait]
impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.borrow()
    }

    async fn sleep_until(&self, at: DateTime<Utc>) {
        let mut now = self.0.subscribe();
        let _ = now.wait_for(|now| *now >= at).await;
    }
}

/// Keeps everything in memory, indexed the way the use cases read it, so it also carries the
/// scheduler benchmark's hundreds of thousands of runs. Lists come back in insertion order,
/// which is creation order in tests.
#[derive(Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
    /// A pause of the next `clusters_with_status`: told when reached, waits to be resumed.
    pause: Mutex<Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>>,
}

impl InMemoryStore {
    /// Makes the next `clusters_with_status` stop before it reads: the first receiver hears
    /// when it got there, and it goes on once the sender is used (or dropped). For tests of
    /// what happens between two reads of someone else.
    pub fn pause_next_clusters_with_status(&self) -> (oneshot::Receiver<()>, oneshot::Sender<()>) {
        let (arrived_tx, arrived_rx) = oneshot::channel();
        let (resume_tx, resume_rx) = oneshot::channel();
        *self.pause.lock().unwrap() = Some((arrived_tx, resume_rx));
        (arrived_rx, resume_tx)
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

#[async_trait]
impl Store for InMemoryStore {
    async fn organizations(&self) -> Result<Vec<Organization>> {
        Ok(self.state.lock().unwrap().organizations.clone())
    }

    async fn projects(&self, organization: &OrganizationId) -> Result<Vec<Project>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .projects
            .iter()
            .filter(|p| {
                &p.organization_id == organization && !state.deleted_projects.contains(&p.id)
            })
            .cloned()
            .collect())
    }

    async fn insert_organization(
        &self,
        organization: &Organization,
        grants: &[Grant],
    ) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state.organizations.push(organization.clone());
        state.grants.extend_from_slice(grants);
        Ok(())
    }

    async fn delete_organization(&self, id: &OrganizationId) -> Result<()> {
        self.state
            .lock()
            .unwrap()
            .organizations
            .retain(|o| &o.id != id);
        Ok(())
    }

    async fn delete_project(&self, id: &ProjectId) -> Result<()> {
        self.state
            .lock()
            .unwrap()
            .deleted_projects
            .insert(id.clone());
        Ok(())
    }

    async fn networks(&self, project: &ProjectId) -> Result<Vec<Network>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .networks
            .rows
            .iter()
            .filter(|n| &n.project_id == project && n.status != NetworkStatus::Deleted)
            .cloned()
            .collect())
    }

    async fn apply_seed(&self, plan: &SeedPlan) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state.organizations.extend(plan.organization.clone());
        state.projects.extend(plan.project.clone());
        for network in &plan.networks {
            state.networks.insert(network.id.clone(), network.clone());
        }
        Ok(())
    }

    async fn insert_project(&self, project: &Project) -> Result<()> {
        self.state.lock().unwrap().projects.push(project.clone());
        Ok(())
    }

    async fn network(&self, project: &ProjectId, id: &NetworkId) -> Result<Option<Network>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .networks
            .get(id)
            .filter(|n| &n.project_id == project)
            .cloned())
    }

    async fn insert_network(&self, network: &Network) -> Result<()> {
        self.state
            .lock()
            .unwrap()
            .networks
            .insert(network.id.clone(), network.clone());
        Ok(())
    }

    async fn update_network(&self, network: &Network) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state.networks.replace(
            &network.id,
            network.clone(),
            "network",
            network.id.to_string(),
        )
    }

    async fn clusters(&self, project: &ProjectId) -> Result<Vec<Cluster>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .clusters
            .rows
            .iter()
            .filter(|c| &c.project_id == project && c.status != ClusterStatus::Deleted)
            .cloned()
            .collect())
    }

    async fn cluster(&self, project: &ProjectId, id: &ClusterId) -> Result<Option<Cluster>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .clusters
            .get(id)
            .filter(|c| &c.project_id == project)
            .cloned())
    }

    async fn insert_cluster(&self, cluster: &Cluster) -> Result<()> {
        self.state
            .lock()
            .unwrap()
            .clusters
            .insert(cluster.id.clone(), cluster.clone());
        Ok(())
    }

    async fn patch_cluster(&self, id: &ClusterId, patch: &ClusterPatch) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        let Some(cluster) = state.clusters.get_mut(id) else {
            return Ok(false);
        };
        patch.apply_to(cluster);
        Ok(true)
    }

    async fn clusters_with_status(&self, status: ClusterStatus) -> Result<Vec<Cluster>> {
        let pause = self.pause.lock().unwrap().take();
        if let Some((arrived, resume)) = pause {
            let _ = arrived.send(());
            let _ = resume.await;
        }
        let state = self.state.lock().unwrap();
        Ok(state
            .clusters
            .rows
            .iter()
            .filter(|c| c.status == status)
            .cloned()
            .collect())
    }

    async fn acquire_lock(&self, lock: &ClusterLock) -> Result<LockOutcome> {
        let mut state = self.state.lock().unwrap();
        if let Some(holder) = state.locks.get(&lock.cluster_id) {
            return Ok(LockOutcome::HeldBy(holder.clone()));
        }
        state.locks.insert(lock.cluster_id.clone(), lock.clone());
        Ok(LockOutcome::Acquired)
    }

    async fn release_lock(&self, cluster: &ClusterId, holder_id: &str) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        if state
            .locks
            .get(cluster)
            .is_some_and(|l| l.holder_id == holder_id)
        {
            state.locks.remove(cluster);
            return Ok(true);
        }
        Ok(false)
    }

    async fn locks(&self) -> Result<Vec<ClusterLock>> {
        let state = self.state.lock().unwrap();
        let mut locks: Vec<_> = state.locks.values().cloned().collect();
        locks.sort_by_key(|l| l.acquired_at);
        Ok(locks)
    }

    async fn heartbeat(&self, instance: &str, at: DateTime<Utc>) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state.heartbeats.insert(instance.to_owned(), at);
        state
            .heartbeats
            .retain(|_, seen| *seen >= at - chrono::TimeDelta::days(1));
        Ok(())
    }

    async fn heartbeats(&self) -> Result<Vec<(String, DateTime<Utc>)>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .heartbeats
            .iter()
            .map(|(id, at)| (id.clone(), *at))
            .collect())
    }

    async fn last_backup_successes(&self) -> Result<Vec<crate::ports::BackupSuccess>> {
        let state = self.state.lock().unwrap();
        let mut last: HashMap<ClusterId, &Backup> = HashMap::new();
        for backup in &state.backups.rows {
            let succeeded = matches!(
                backup.status,
                BackupStatus::Available | BackupStatus::Deleting | BackupStatus::Deleted
            ) && backup.failure_reason.is_none();
            if succeeded {
                let entry = last
                    .entry(backup.source_cluster_id.clone())
                    .or_insert(backup);
                if (backup.created, &backup.id) > (entry.created, &entry.id) {
                    *entry = backup;
                }
            }
        }
        Ok(last
            .into_values()
            .map(|b| crate::ports::BackupSuccess {
                cluster_id: b.source_cluster_id.clone(),
                project_id: b.project_id.clone(),
                created: b.created,
                finished: b.finished,
                bytes_stored: b.bytes_stored,
            })
            .collect())
    }

    async fn count_pending_deliveries(&self) -> Result<u64> {
        let state = self.state.lock().unwrap();
        Ok(state
            .deliveries
            .iter()
            .filter(|d| d.status == DeliveryStatus::Pending)
            .count() as u64)
    }

    async fn count_backups_of_cluster(&self, cluster: &ClusterId) -> Result<u64> {
        let state = self.state.lock().unwrap();
        Ok(state.backups_by_cluster.get(cluster).copied().unwrap_or(0))
    }

    async fn insert_backup(&self, backup: &Backup) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        let i = state.backups.insert(backup.id.clone(), backup.clone());
        *state
            .backups_by_cluster
            .entry(backup.source_cluster_id.clone())
            .or_default() += 1;
        if let Some(job) = &backup.linked_resource {
            state.backups_by_job.entry(job.clone()).or_default().push(i);
        }
        Ok(())
    }

    async fn backup(&self, project: &ProjectId, id: &BackupId) -> Result<Option<Backup>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .backups
            .get(id)
            .filter(|b| &b.project_id == project)
            .cloned())
    }

    async fn backups(&self, project: &ProjectId) -> Result<Vec<Backup>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .backups
            .rows
            .iter()
            .filter(|b| &b.project_id == project && b.status != BackupStatus::Deleted)
            .cloned()
            .collect())
    }

    async fn backups_with_status(&self, status: BackupStatus) -> Result<Vec<Backup>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .backups
            .rows
            .iter()
            .filter(|b| b.status == status)
            .cloned()
            .collect())
    }

    async fn update_backup(&self, backup: &Backup) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        let mut backup = backup.clone();
        // As the SQL stores: the verification is written on its own, never with the rest.
        backup.verification = state
            .backups
            .get(&backup.id)
            .and_then(|b| b.verification.clone());
        let id = backup.id.to_string();
        state
            .backups
            .replace(&backup.id.clone(), backup, "backup", id)
    }

    async fn set_verification(
        &self,
        id: &BackupId,
        verification: &cairn_model::Verification,
    ) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        Ok(match state.backups.get_mut(id) {
            Some(backup) => {
                backup.verification = Some(verification.clone());
                true
            }
            None => false,
        })
    }

    async fn job_backups(&self, job: &JobId) -> Result<Vec<Backup>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .backups_by_job
            .get(job)
            .into_iter()
            .flatten()
            .map(|&i| &state.backups.rows[i])
            .filter(|b| b.status != BackupStatus::Deleted)
            .cloned()
            .collect())
    }

    async fn insert_job(&self, job: &Job) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state.schedule_from.insert(job.id.clone(), job.created);
        state.jobs.insert(job.id.clone(), job.clone());
        Ok(())
    }

    async fn job(&self, project: &ProjectId, id: &JobId) -> Result<Option<Job>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .jobs
            .get(id)
            .filter(|j| &j.project_id == project)
            .cloned())
    }

    async fn jobs(&self, project: &ProjectId) -> Result<Vec<Job>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .jobs
            .rows
            .iter()
            .filter(|j| &j.project_id == project && j.status != JobStatus::Deleted)
            .cloned()
            .collect())
    }

    async fn update_job(&self, job: &Job) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state
            .jobs
            .replace(&job.id, job.clone(), "job", job.id.to_string())
    }

    async fn insert_history(&self, item: &HistoryItem) -> Result<()> {
        self.state.lock().unwrap().push_history(item);
        Ok(())
    }

    async fn update_history(&self, item: &HistoryItem) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        if !state.history.contains_key(&item.id) {
            return Err(Error::NotFound {
                what: "history item",
                id: item.id.to_string(),
            });
        }
        state.put_history(item);
        Ok(())
    }

    async fn history(&self, job: &JobId, limit: u32) -> Result<Vec<HistoryItem>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .history_by_job
            .get(job)
            .into_iter()
            .flat_map(|ids| ids.iter().rev())
            .take(limit as usize)
            .map(|id| state.history[id].clone())
            .collect())
    }

    async fn project_history(
        &self,
        project: &ProjectId,
        job: Option<&JobId>,
        limit: u32,
    ) -> Result<Vec<HistoryItem>> {
        let state = self.state.lock().unwrap();
        let mut items: Vec<HistoryItem> = state
            .history
            .values()
            .filter(|h| &h.project_id == project && job.is_none_or(|j| &h.job_id == j))
            .cloned()
            .collect();
        items.sort_by(|a, b| (b.start_time, &b.id).cmp(&(a.start_time, &a.id)));
        items.truncate(limit as usize);
        Ok(items)
    }

    async fn last_runs(&self, project: &ProjectId) -> Result<HashMap<JobId, HistoryItem>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .jobs
            .rows
            .iter()
            .filter(|j| &j.project_id == project)
            .filter_map(|j| {
                let last = state.history_by_job.get(&j.id)?.last()?;
                Some((j.id.clone(), state.history[last].clone()))
            })
            .collect())
    }

    async fn run_of_backup(&self, job: &JobId, backup: &BackupId) -> Result<Option<HistoryItem>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .history_by_job
            .get(job)
            .into_iter()
            .flatten()
            .rev()
            .map(|id| &state.history[id])
            .find(|item| item.linked_resource.as_ref() == Some(backup))
            .cloned())
    }

    async fn end_run_if_started(&self, item: &HistoryItem) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        match state.history.get(&item.id) {
            Some(stored) if stored.status == HistoryStatus::Started => {
                state.put_history(item);
                Ok(true)
            }
            Some(_) => Ok(false),
            None => Err(Error::NotFound {
                what: "history item",
                id: item.id.to_string(),
            }),
        }
    }

    async fn started_runs(&self) -> Result<Vec<HistoryItem>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .started_runs
            .iter()
            .map(|id| state.history[id].clone())
            .collect())
    }

    async fn prune_history(&self, before: DateTime<Utc>) -> Result<u64> {
        let mut state = self.state.lock().unwrap();
        let state = &mut *state;
        let mut pruned = 0;
        for ids in state.history_by_job.values_mut() {
            let latest = ids.last().cloned();
            ids.retain(|id| {
                let item = &state.history[id];
                let old = item.end_time.is_some_and(|end| end < before);
                if !old || Some(id) == latest.as_ref() {
                    return true;
                }
                state.history.remove(id);
                pruned += 1;
                false
            });
        }
        Ok(pruned)
    }

    async fn scheduled_jobs(&self) -> Result<Vec<(Job, DateTime<Utc>)>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .jobs
            .rows
            .iter()
            .filter(|j| j.status == JobStatus::Running)
            .map(|j| {
                let from = state.schedule_from[&j.id];
                let from = state.last_due.get(&j.id).map_or(from, |&due| due.max(from));
                (j.clone(), from)
            })
            .collect())
    }

    async fn set_schedule_from(&self, job: &JobId, from: DateTime<Utc>) -> Result<()> {
        self.state
            .lock()
            .unwrap()
            .schedule_from
            .insert(job.clone(), from);
        Ok(())
    }

    async fn claim_run(&self, due_at: DateTime<Utc>, item: &HistoryItem) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        if !state.runs.insert((item.job_id.clone(), due_at)) {
            return Ok(false);
        }
        let last = state.last_due.entry(item.job_id.clone()).or_insert(due_at);
        *last = (*last).max(due_at);
        state.push_history(item);
        Ok(true)
    }

    async fn rename(&self, field: Renamable, id: &str, text: &str) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        let found = match field {
            Renamable::OrganizationName => state
                .organizations
                .iter_mut()
                .find(|o| o.id.as_str() == id)
                .map(|o| o.name = text.to_owned()),
            Renamable::ProjectName => state
                .projects
                .iter_mut()
                .find(|p| p.id.as_str() == id)
                .map(|p| p.name = text.to_owned()),
            Renamable::NetworkDescription => NetworkId::parse(id)
                .ok()
                .and_then(|id| state.networks.get_mut(&id))
                .map(|n| n.description = text.to_owned()),
        };
        Ok(found.is_some())
    }

    async fn insert_integration(&self, integration: &Integration) -> Result<()> {
        self.state
            .lock()
            .unwrap()
            .integrations
            .push(integration.clone());
        Ok(())
    }

    async fn integration(&self, id: &IntegrationId) -> Result<Option<Integration>> {
        let state = self.state.lock().unwrap();
        Ok(state.integrations.iter().find(|i| &i.id == id).cloned())
    }

    async fn integrations(&self, project: &ProjectId) -> Result<Vec<Integration>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .integrations
            .iter()
            .filter(|i| &i.project_id == project)
            .cloned()
            .collect())
    }

    async fn update_integration(&self, integration: &Integration) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        match state
            .integrations
            .iter_mut()
            .find(|i| i.id == integration.id)
        {
            Some(stored) => {
                *stored = integration.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_integration(&self, id: &IntegrationId, at: DateTime<Utc>) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        let before = state.integrations.len();
        state.integrations.retain(|i| &i.id != id);
        for delivery in state
            .deliveries
            .iter_mut()
            .filter(|d| &d.integration_id == id && d.status == DeliveryStatus::Pending)
        {
            delivery.status = DeliveryStatus::Failed;
            delivery.next_attempt = None;
            delivery.last_error = Some(format!("the integration was deleted at {at}"));
        }
        Ok(state.integrations.len() < before)
    }

    async fn record_event(&self, event: &Event, deliveries: &[Delivery]) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state.events.push(event.clone());
        state.deliveries.extend_from_slice(deliveries);
        Ok(())
    }

    async fn close_issue(
        &self,
        id: &EventId,
        at: DateTime<Utc>,
        deliveries: &[Delivery],
    ) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        let Some(issue) = state
            .events
            .iter_mut()
            .find(|e| &e.id == id && e.status == Some(IssueStatus::Open))
        else {
            return Ok(false);
        };
        issue.status = Some(IssueStatus::Closed);
        issue.closed = Some(at);
        state.deliveries.extend_from_slice(deliveries);
        Ok(true)
    }

    async fn record_test(&self, event: &Event, delivery: &Delivery) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state.events.push(event.clone());
        state.deliveries.push(delivery.clone());
        Ok(())
    }

    async fn event(&self, id: &EventId) -> Result<Option<Event>> {
        let state = self.state.lock().unwrap();
        Ok(state.events.iter().find(|e| &e.id == id).cloned())
    }

    async fn events(&self, project: &ProjectId, limit: u32) -> Result<Vec<Event>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .events
            .iter()
            .rev()
            .filter(|e| &e.project_id == project)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn open_issues(&self) -> Result<Vec<Event>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .events
            .iter()
            .filter(|e| e.status == Some(IssueStatus::Open))
            .cloned()
            .collect())
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        let mut state = self.state.lock().unwrap();
        let mut claimed = Vec::new();
        for delivery in state.deliveries.iter_mut().filter(|d| {
            d.status == DeliveryStatus::Pending && d.next_attempt.is_some_and(|at| at <= now)
        }) {
            if claimed.len() == limit as usize {
                break;
            }
            delivery.next_attempt = Some(lease);
            claimed.push(delivery.clone());
        }
        Ok(claimed)
    }

    async fn finish_delivery(&self, delivery: &Delivery) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        if let Some(stored) = state.deliveries.iter_mut().find(|d| d.id == delivery.id) {
            *stored = delivery.clone();
        }
        Ok(())
    }

    async fn deliveries(&self, integration: &IntegrationId, limit: u32) -> Result<Vec<Delivery>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .deliveries
            .iter()
            .rev()
            .filter(|d| &d.integration_id == integration)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64> {
        let mut state = self.state.lock().unwrap();
        state
            .deliveries
            .retain(|d| d.status == DeliveryStatus::Pending || d.created >= before);
        let kept: HashSet<EventId> = state
            .deliveries
            .iter()
            .map(|d| d.event_id.clone())
            .collect();
        let count = state.events.len();
        state.events.retain(|e| {
            e.created >= before || e.status == Some(IssueStatus::Open) || kept.contains(&e.id)
        });
        Ok((count - state.events.len()) as u64)
    }

    async fn last_successes(&self) -> Result<HashMap<JobId, DateTime<Utc>>> {
        let state = self.state.lock().unwrap();
        let mut last: HashMap<JobId, DateTime<Utc>> = HashMap::new();
        for item in state
            .history
            .values()
            .filter(|h| h.status == HistoryStatus::Succeeded)
        {
            if let Some(end) = item.end_time {
                let entry = last.entry(item.job_id.clone()).or_insert(end);
                *entry = (*entry).max(end);
            }
        }
        Ok(last)
    }

    async fn count_users(&self) -> Result<u64> {
        Ok(self.state.lock().unwrap().users.len() as u64)
    }

    async fn insert_user(
        &self,
        user: &User,
        password_hash: &str,
        grants: &[Grant],
        only_if_none: bool,
    ) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        if only_if_none && !state.users.is_empty() {
            return Ok(false);
        }
        if state.users.iter().any(|(u, _)| u.email == user.email) {
            return Err(Error::Conflict(format!(
                "a user with email {} exists",
                user.email
            )));
        }
        state.users.push((user.clone(), password_hash.to_owned()));
        state.grants.extend_from_slice(grants);
        Ok(true)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>> {
        let state = self.state.lock().unwrap();
        Ok(state.users.iter().find(|(u, _)| u.email == email).cloned())
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .users
            .iter()
            .find(|(u, _)| &u.id == id)
            .map(|(u, _)| u.clone()))
    }

    async fn grants(&self, user: &UserId) -> Result<Vec<Grant>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .grants
            .iter()
            .filter(|g| &g.user_id == user)
            .cloned()
            .collect())
    }

    async fn put_grant(&self, grant: &Grant) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state.grants.retain(|g| {
            !(g.user_id == grant.user_id
                && g.organization_id == grant.organization_id
                && g.project_id == grant.project_id)
        });
        state.grants.push(grant.clone());
        Ok(())
    }

    async fn insert_credential(&self, credential: &Credential) -> Result<()> {
        self.state
            .lock()
            .unwrap()
            .credentials
            .push(credential.clone());
        Ok(())
    }

    async fn credential(&self, hash: &str) -> Result<Option<Credential>> {
        let state = self.state.lock().unwrap();
        Ok(state.credentials.iter().find(|c| c.hash == hash).cloned())
    }

    async fn credentials(&self, user: &UserId, kind: CredentialKind) -> Result<Vec<Credential>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .credentials
            .iter()
            .filter(|c| &c.user_id == user && c.kind == kind)
            .cloned()
            .collect())
    }

    async fn revoke_credential(
        &self,
        user: &UserId,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        if !state
            .credentials
            .iter()
            .any(|c| &c.id == id && &c.user_id == user)
        {
            return Ok(false);
        }
        for credential in state.credentials.iter_mut() {
            let hit = &credential.id == id || credential.parent.as_ref() == Some(id);
            if hit && credential.revoked.is_none() {
                credential.revoked = Some(at);
            }
        }
        Ok(true)
    }

    async fn prune_credentials(&self, before: DateTime<Utc>) -> Result<u64> {
        let mut state = self.state.lock().unwrap();
        let count = state.credentials.len();
        state.credentials.retain(|c| {
            c.kind == CredentialKind::Refresh
                || (c.expires.is_none_or(|e| e > before) && c.revoked.is_none_or(|r| r > before))
        });
        Ok((count - state.credentials.len()) as u64)
    }

    async fn set_password_hash(
        &self,
        user: &UserId,
        password_hash: &str,
        keep: Option<&TokenId>,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        let Some(found) = state.users.iter_mut().find(|(u, _)| &u.id == user) else {
            return Ok(false);
        };
        found.1 = password_hash.to_owned();
        end_sessions(&mut state.credentials, user, keep, at);
        Ok(true)
    }

    async fn revoke_sessions(
        &self,
        user: &UserId,
        keep: Option<&TokenId>,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        let mut state = self.state.lock().unwrap();
        Ok(end_sessions(&mut state.credentials, user, keep, at))
    }

    async fn touch_credential(&self, id: &TokenId, at: DateTime<Utc>) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        for credential in state.credentials.iter_mut().filter(|c| &c.id == id) {
            credential.last_used = Some(at);
        }
        Ok(())
    }
}

/// Revokes a user's live sessions but `keep`; how many.
fn end_sessions(
    credentials: &mut [Credential],
    user: &UserId,
    keep: Option<&TokenId>,
    at: DateTime<Utc>,
) -> u64 {
    let mut ended = 0;
    for credential in credentials.iter_mut().filter(|c| {
        &c.user_id == user
            && c.kind == CredentialKind::Session
            && Some(&c.id) != keep
            && c.revoked.is_none()
            && c.expires.is_none_or(|e| e > at)
    }) {
        credential.revoked = Some(at);
        ended += 1;
    }
    ended
}

/// Where a fake's work waits while a test holds it: open until [`Gate::hold`], and open
/// again on [`Gate::release`]. [`Gate::arrived`] counts who reached it.
pub struct Gate {
    open: watch::Sender<bool>,
    arrived: std::sync::atomic::AtomicUsize,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            open: watch::channel(true).0,
            arrived: Default::default(),
        }
    }
}

impl Gate {
    pub fn hold(&self) {
        self.open.send_replace(false);
    }

    pub fn release(&self) {
        self.open.send_replace(true);
    }

    /// How many have reached the gate so far.
    pub fn arrived(&self) -> usize {
        self.arrived.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn pass(&self) {
        self.arrived
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _ = self.open.subscribe().wait_for(|open| *open).await;
    }
}

/// What the fake engine does when asked for a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotBehaviour {
    Succeed,
    Fail(EngineError),
    /// Wait until [`FakeEngine::release_snapshots`] is called, then succeed.
    Hold,
}

/// An engine that runs nothing: it answers as told and records what it was asked.
pub struct FakeEngine {
    snapshots: Mutex<SnapshotBehaviour>,
    provisioning: Mutex<Option<EngineError>>,
    deletions: Mutex<Option<EngineError>>,
    gate: watch::Sender<bool>,
    /// Provisioning, changes and health probes wait at these while a test holds them.
    pub provisioning_gate: Gate,
    pub changes_gate: Gate,
    pub probes_gate: Gate,
    pub verifications_gate: Gate,
    verifications: Mutex<Option<EngineError>>,
    /// What `contents` says of any cluster (what the fake's snapshots record, unless set).
    contents: Mutex<Option<cairn_model::ClusterContents>>,
    deleted_snapshots: Mutex<Vec<BackupId>>,
    provisioned: Mutex<Vec<(ClusterId, Option<BackupId>)>>,
    changes: Mutex<Vec<(ClusterId, ClusterChange)>>,
    health: Mutex<HashMap<ClusterId, std::result::Result<ClusterHealth, EngineError>>>,
    resumed: Mutex<Vec<ClusterId>>,
}

impl Default for FakeEngine {
    fn default() -> Self {
        Self {
            snapshots: Mutex::new(SnapshotBehaviour::Succeed),
            provisioning: Mutex::new(None),
            deletions: Mutex::new(None),
            gate: watch::channel(false).0,
            provisioning_gate: Gate::default(),
            changes_gate: Gate::default(),
            probes_gate: Gate::default(),
            verifications_gate: Gate::default(),
            verifications: Mutex::new(None),
            contents: Mutex::new(Some(cairn_model::ClusterContents {
                event_count: 42,
                last_position: 4200,
            })),
            deleted_snapshots: Mutex::new(Vec::new()),
            provisioned: Mutex::new(Vec::new()),
            changes: Mutex::new(Vec::new()),
            health: Mutex::new(HashMap::new()),
            resumed: Mutex::new(Vec::new()),
        }
    }
}

impl FakeEngine {
    /// What probes of `cluster` will say from now on (`Ok` until set).
    pub fn set_health(
        &self,
        cluster: &ClusterId,
        health: std::result::Result<ClusterHealth, EngineError>,
    ) {
        self.health.lock().unwrap().insert(cluster.clone(), health);
    }

    /// The clusters `resume` was called for, in order.
    pub fn resumed(&self) -> Vec<ClusterId> {
        self.resumed.lock().unwrap().clone()
    }

    /// Sets what the next snapshots do; `Hold` closes the gate again.
    pub fn snapshots(&self, behaviour: SnapshotBehaviour) {
        if behaviour == SnapshotBehaviour::Hold {
            self.gate.send_replace(false);
        }
        *self.snapshots.lock().unwrap() = behaviour;
    }

    pub fn release_snapshots(&self) {
        self.gate.send_replace(true);
    }

    /// What clusters hold from now on, as `contents` reads them.
    pub fn restored_contents(&self, contents: Option<cairn_model::ClusterContents>) {
        *self.contents.lock().unwrap() = contents;
    }

    /// Verifications fail with `error` from now on (`None`: they find nothing wrong).
    pub fn fail_verifications(&self, error: Option<EngineError>) {
        *self.verifications.lock().unwrap() = error;
    }

    /// Snapshot deletions fail with `error` from now on (`None`: they succeed again).
    pub fn fail_deletions(&self, error: Option<EngineError>) {
        *self.deletions.lock().unwrap() = error;
    }

    /// Provisioning (and restores) wait from now on until [`FakeEngine::release_provisioning`].
    pub fn hold_provisioning(&self) {
        self.provisioning_gate.hold();
    }

    pub fn release_provisioning(&self) {
        self.provisioning_gate.release();
    }

    pub fn fail_provisioning(&self, error: EngineError) {
        *self.provisioning.lock().unwrap() = Some(error);
    }

    pub fn deleted_snapshots(&self) -> Vec<BackupId> {
        self.deleted_snapshots.lock().unwrap().clone()
    }

    /// Changes applied to clusters, in order.
    pub fn changes(&self) -> Vec<(ClusterId, ClusterChange)> {
        self.changes.lock().unwrap().clone()
    }

    /// Clusters provisioned, with the backup each was restored from.
    pub fn provisioned(&self) -> Vec<(ClusterId, Option<BackupId>)> {
        self.provisioned.lock().unwrap().clone()
    }
}

#[async_trait]
impl Engine for FakeEngine {
    async fn health(&self, cluster: &Cluster) -> std::result::Result<ClusterHealth, EngineError> {
        self.probes_gate.pass().await;
        self.health
            .lock()
            .unwrap()
            .get(&cluster.id)
            .cloned()
            .unwrap_or(Ok(ClusterHealth::Ok))
    }

    async fn resume(&self, cluster: &Cluster) -> std::result::Result<(), EngineError> {
        self.resumed.lock().unwrap().push(cluster.id.clone());
        Ok(())
    }

    async fn provision(
        &self,
        cluster: &Cluster,
        source: Option<&Backup>,
    ) -> std::result::Result<ClusterAddresses, EngineError> {
        self.provisioned
            .lock()
            .unwrap()
            .push((cluster.id.clone(), source.map(|b| b.id.clone())));
        self.provisioning_gate.pass().await;
        if let Some(error) = self.provisioning.lock().unwrap().clone() {
            return Err(error);
        }
        Ok(ClusterAddresses {
            tcp: vec![],
            grpc: format!("esdb://{}.local:2113", cluster.id),
            ui: format!("http://{}.local:2113", cluster.id),
        })
    }

    async fn snapshot(
        &self,
        cluster: &Cluster,
        _backup: &Backup,
        progress: ProgressSink,
    ) -> std::result::Result<SnapshotFacts, EngineError> {
        let behaviour = self.snapshots.lock().unwrap().clone();
        progress(Progress {
            bytes_done: 0,
            bytes_total: 100,
        });
        match behaviour {
            SnapshotBehaviour::Fail(error) => return Err(error),
            SnapshotBehaviour::Hold => {
                let mut gate = self.gate.subscribe();
                let _ = gate.wait_for(|open| *open).await;
            }
            SnapshotBehaviour::Succeed => {}
        }
        progress(Progress {
            bytes_done: 100,
            bytes_total: 100,
        });
        Ok(SnapshotFacts {
            bytes_stored: 100,
            bytes_new: 100,
            file_count: 3,
            checksum: "blake3:fake".into(),
            available_node_count: cluster.topology.node_count(),
            contents: Some(cairn_model::ClusterContents {
                event_count: 42,
                last_position: 4200,
            }),
        })
    }

    async fn contents(
        &self,
        _cluster: &Cluster,
    ) -> std::result::Result<Option<cairn_model::ClusterContents>, EngineError> {
        Ok(*self.contents.lock().unwrap())
    }

    async fn verify_snapshot(
        &self,
        _backup: &Backup,
    ) -> std::result::Result<crate::ports::VerifiedFacts, EngineError> {
        self.verifications_gate.pass().await;
        match self.verifications.lock().unwrap().clone() {
            Some(error) => Err(error),
            None => Ok(crate::ports::VerifiedFacts {
                files: 3,
                chunks: 7,
                bytes: 100,
            }),
        }
    }

    async fn delete_snapshot(&self, backup: &Backup) -> std::result::Result<(), EngineError> {
        if let Some(error) = self.deletions.lock().unwrap().clone() {
            return Err(error);
        }
        self.deleted_snapshots
            .lock()
            .unwrap()
            .push(backup.id.clone());
        Ok(())
    }

    /// Records the change; fails it when snapshots are set to fail (the cluster is "unhealthy").
    async fn apply(
        &self,
        cluster: &Cluster,
        change: &ClusterChange,
    ) -> std::result::Result<(), EngineError> {
        self.changes
            .lock()
            .unwrap()
            .push((cluster.id.clone(), change.clone()));
        self.changes_gate.pass().await;
        match self.snapshots.lock().unwrap().clone() {
            SnapshotBehaviour::Fail(error) => Err(error),
            _ => Ok(()),
        }
    }
}

/// Keeps every notification, for tests to read.
#[derive(Default)]
pub struct RecordingNotifier(Mutex<Vec<Notification>>);

impl RecordingNotifier {
    pub fn sent(&self) -> Vec<Notification> {
        self.0.lock().unwrap().clone()
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn notify(&self, notification: Notification) {
        self.0.lock().unwrap().push(notification);
    }
}

/// A valid create-cluster request in `network` ("orders", one node, C4, 16 GB, 24.10): tests
/// change what they are about with struct update syntax.
pub fn cluster_request(network: cairn_model::NetworkId) -> cairn_model::CreateClusterRequest {
    cairn_model::CreateClusterRequest {
        description: "orders".into(),
        network_id: network,
        topology: cairn_model::Topology::SingleNode,
        instance_type: cairn_model::InstanceType::C4,
        disk_size_gb: 16,
        disk_type: "local-ssd".into(),
        server_version: "24.10".into(),
        projection_level: cairn_model::ProjectionLevel::System,
        source_backup_id: None,
        source_backup_project_id: None,
        protected: false,
    }
}
