//! The ports the core needs from the outside world. Adapters live in other crates
//! (`cairn-store` for the database, the engine crates for clusters); test doubles live in
//! [`crate::testkit`].

use crate::access::{Credential, CredentialKind};
use crate::error::Result;
use crate::locks::{ClusterLock, LockOutcome};
use crate::site::SeedPlan;
use async_trait::async_trait;
use cairn_model::{
    Backup, BackupId, BackupStatus, Cluster, ClusterAddresses, ClusterHealth, ClusterId,
    ClusterStatus, Delivery, Event, EventId, Grant, HistoryItem, InstanceType, Integration,
    IntegrationId, Job, JobId, Network, NetworkId, NodeState, Organization, OrganizationId,
    Progress, Project, ProjectId, TokenId, User, UserId,
};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// Persistent state. Every read is scoped to its parent so ids of another project are not found.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Organizations, oldest first.
    async fn organizations(&self) -> Result<Vec<Organization>>;
    /// Inserts an organization and the grants that come with it (its creator's), together.
    async fn insert_organization(
        &self,
        organization: &Organization,
        grants: &[Grant],
    ) -> Result<()>;
    /// Removes an organization that has no projects left.
    async fn delete_organization(&self, id: &OrganizationId) -> Result<()>;
    /// Projects of one organization that are not deleted, oldest first.
    async fn projects(&self, organization: &OrganizationId) -> Result<Vec<Project>>;
    /// Marks a project deleted: it leaves the lists and is no longer found.
    async fn delete_project(&self, id: &ProjectId) -> Result<()>;
    /// Networks of one project that are not deleted, oldest first.
    async fn networks(&self, project: &ProjectId) -> Result<Vec<Network>>;
    /// Writes everything the plan creates in one transaction: all of it, or nothing.
    async fn apply_seed(&self, plan: &SeedPlan) -> Result<()>;
    async fn insert_project(&self, project: &Project) -> Result<()>;
    /// A network of the project, deleted ones included.
    async fn network(&self, project: &ProjectId, id: &NetworkId) -> Result<Option<Network>>;
    async fn insert_network(&self, network: &Network) -> Result<()>;
    /// Replaces the stored network with the same id.
    async fn update_network(&self, network: &Network) -> Result<()>;

    /// Clusters of one project that are not deleted, oldest first.
    async fn clusters(&self, project: &ProjectId) -> Result<Vec<Cluster>>;
    async fn cluster(&self, project: &ProjectId, id: &ClusterId) -> Result<Option<Cluster>>;
    async fn insert_cluster(&self, cluster: &Cluster) -> Result<()>;
    /// Writes the fields the patch sets, and only those, in one statement: a concurrent write
    /// of another field (health by the probes, a rename) is kept. `false` when no such cluster.
    async fn patch_cluster(&self, id: &ClusterId, patch: &ClusterPatch) -> Result<bool>;
    /// Clusters of every project in one status (used to settle unfinished work on start).
    async fn clusters_with_status(&self, status: ClusterStatus) -> Result<Vec<Cluster>>;

    /// Takes the cluster's lock if nobody holds it; otherwise says who does. Atomic.
    async fn acquire_lock(&self, lock: &ClusterLock) -> Result<LockOutcome>;
    /// Releases the cluster's lock if `holder_id` holds it; answers whether it did.
    async fn release_lock(&self, cluster: &ClusterId, holder_id: &str) -> Result<bool>;
    async fn locks(&self) -> Result<Vec<ClusterLock>>;

    /// Records that an instance is alive at `at` (and forgets instances silent for a day).
    async fn heartbeat(&self, instance: &str, at: DateTime<Utc>) -> Result<()>;
    /// Every known instance with its last heartbeat.
    async fn heartbeats(&self) -> Result<Vec<(String, DateTime<Utc>)>>;

    /// For each cluster with one, its newest backup that succeeded (deleted backups count:
    /// they did succeed).
    async fn last_backup_successes(&self) -> Result<Vec<BackupSuccess>>;
    /// How many deliveries wait to be sent.
    async fn count_pending_deliveries(&self) -> Result<u64>;
    /// How many backups were ever made of a cluster, deleted ones included.
    async fn count_backups_of_cluster(&self, cluster: &ClusterId) -> Result<u64>;
    async fn insert_backup(&self, backup: &Backup) -> Result<()>;
    /// A backup of the project, deleted ones included (they stay readable by id).
    async fn backup(&self, project: &ProjectId, id: &BackupId) -> Result<Option<Backup>>;
    /// Backups of one project that are not deleted, oldest first.
    async fn backups(&self, project: &ProjectId) -> Result<Vec<Backup>>;
    /// Backups of every project in one status (used to settle unfinished work on start).
    async fn backups_with_status(&self, status: BackupStatus) -> Result<Vec<Backup>>;
    /// Replaces the stored backup with the same id (all but its verification).
    async fn update_backup(&self, backup: &Backup) -> Result<()>;
    /// Records a verification of a backup, and only that; `false` when no such backup.
    async fn set_verification(
        &self,
        id: &BackupId,
        verification: &cairn_model::Verification,
    ) -> Result<bool>;
    /// Backups a job made that are not deleted, oldest first.
    async fn job_backups(&self, job: &JobId) -> Result<Vec<Backup>>;

    async fn insert_job(&self, job: &Job) -> Result<()>;
    /// A job of the project, deleted ones included.
    async fn job(&self, project: &ProjectId, id: &JobId) -> Result<Option<Job>>;
    /// Jobs of one project that are not deleted, oldest first.
    async fn jobs(&self, project: &ProjectId) -> Result<Vec<Job>>;
    /// Replaces the stored job with the same id.
    async fn update_job(&self, job: &Job) -> Result<()>;

    async fn insert_history(&self, item: &HistoryItem) -> Result<()>;
    /// Replaces the stored history item with the same id.
    async fn update_history(&self, item: &HistoryItem) -> Result<()>;
    /// A job's most recent runs, newest first, at most `limit`.
    async fn history(&self, job: &JobId, limit: u32) -> Result<Vec<HistoryItem>>;
    /// A project's most recent runs (of one job, when given), newest first, at most `limit`,
    /// in one query.
    async fn project_history(
        &self,
        project: &ProjectId,
        job: Option<&JobId>,
        limit: u32,
    ) -> Result<Vec<HistoryItem>>;
    /// Each of the project's jobs' latest run, in one query.
    async fn last_runs(&self, project: &ProjectId) -> Result<HashMap<JobId, HistoryItem>>;
    /// The run of `job` that made `backup` (a restore test's runs link the backups they
    /// tested: the job tells them apart).
    async fn run_of_backup(&self, job: &JobId, backup: &BackupId) -> Result<Option<HistoryItem>>;
    /// Ends a run (status, details, end time) if it is still `started`; `false` when it had
    /// ended already (recovery settled it, say), and then nothing is written.
    async fn end_run_if_started(&self, item: &HistoryItem) -> Result<bool>;
    /// Every run still `started`, of every project (for recovery).
    async fn started_runs(&self) -> Result<Vec<HistoryItem>>;
    /// Forgets runs that ended before `before` (and their claims), but each job's latest run;
    /// answers how many went.
    async fn prune_history(&self, before: DateTime<Utc>) -> Result<u64>;

    /// Running jobs of every project, with the time their schedule counts from: the last run
    /// claimed, or when the job was created or last resumed (so a resume fires no missed run).
    async fn scheduled_jobs(&self) -> Result<Vec<(Job, DateTime<Utc>)>>;
    /// Moves the time a job's schedule counts from (on resume).
    async fn set_schedule_from(&self, job: &JobId, from: DateTime<Utc>) -> Result<()>;
    /// Claims the run of `job` due at `due_at` and records `item` for it, in one transaction.
    /// Unique on `(job, due_at)`: of any number of instances, exactly one gets `true`.
    async fn claim_run(&self, due_at: DateTime<Utc>, item: &HistoryItem) -> Result<bool>;

    /// Renames an organization or project, or re-describes a network; `false` when no such id.
    async fn rename(&self, field: Renamable, id: &str, text: &str) -> Result<bool>;

    /// How many users there are.
    async fn count_users(&self) -> Result<u64>;
    /// Inserts a user with their password hash and grants, in one transaction. With
    /// `only_if_none` it inserts nothing and answers `false` when any user exists (so two
    /// instances cannot both set up a first admin). An email already used is a conflict.
    async fn insert_user(
        &self,
        user: &User,
        password_hash: &str,
        grants: &[Grant],
        only_if_none: bool,
    ) -> Result<bool>;
    /// A user and their password hash, by (normalized) email.
    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>>;
    async fn user(&self, id: &UserId) -> Result<Option<User>>;
    /// Every grant a user holds.
    async fn grants(&self, user: &UserId) -> Result<Vec<Grant>>;
    /// Gives a user a role at a place (an organization, or one project), replacing theirs.
    async fn put_grant(&self, grant: &Grant) -> Result<()>;
    async fn insert_credential(&self, credential: &Credential) -> Result<()>;
    /// A credential by the hash of its secret.
    async fn credential(&self, hash: &str) -> Result<Option<Credential>>;
    /// A user's credentials of a kind.
    async fn credentials(&self, user: &UserId, kind: CredentialKind) -> Result<Vec<Credential>>;
    /// Revokes a user's credential and those made from it; `false` when the user has none
    /// with that id.
    async fn revoke_credential(
        &self,
        user: &UserId,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> Result<bool>;
    /// Deletes sessions and access tokens that expired or were revoked before `before`
    /// (API tokens stay listed, revoked ones marked); how many went.
    async fn prune_credentials(&self, before: DateTime<Utc>) -> Result<u64>;
    /// Replaces a user's password hash and ends their live console sessions but `keep`, in
    /// one transaction; `false` when there is no such user.
    async fn set_password_hash(
        &self,
        user: &UserId,
        password_hash: &str,
        keep: Option<&TokenId>,
        at: DateTime<Utc>,
    ) -> Result<bool>;
    /// Ends a user's live console sessions but `keep` (revoked at `at`); how many ended.
    async fn revoke_sessions(
        &self,
        user: &UserId,
        keep: Option<&TokenId>,
        at: DateTime<Utc>,
    ) -> Result<u64>;
    /// Inserts an integration.
    async fn insert_integration(&self, integration: &Integration) -> Result<()>;
    /// An integration by id, in any project (the dispatcher's read; use cases check the
    /// project).
    async fn integration(&self, id: &IntegrationId) -> Result<Option<Integration>>;
    /// A project's integrations, oldest first.
    async fn integrations(&self, project: &ProjectId) -> Result<Vec<Integration>>;
    /// Replaces an integration's description, source and sink; `false` when it is gone.
    async fn update_integration(&self, integration: &Integration) -> Result<bool>;
    /// Deletes an integration; its pending deliveries fail with the reason. `false` when gone.
    async fn delete_integration(&self, id: &IntegrationId, at: DateTime<Utc>) -> Result<bool>;
    /// Writes an event and its deliveries (the outbox) in one transaction.
    async fn record_event(&self, event: &Event, deliveries: &[Delivery]) -> Result<()>;
    /// Closes an open issue and queues its deliveries, together; `false` when it was not open.
    async fn close_issue(
        &self,
        id: &EventId,
        at: DateTime<Utc>,
        deliveries: &[Delivery],
    ) -> Result<bool>;
    /// Writes a test event and its (already tried) delivery.
    async fn record_test(&self, event: &Event, delivery: &Delivery) -> Result<()>;
    async fn event(&self, id: &EventId) -> Result<Option<Event>>;
    /// A project's events, newest first.
    async fn events(&self, project: &ProjectId, limit: u32) -> Result<Vec<Event>>;
    /// Every open issue, of every project.
    async fn open_issues(&self) -> Result<Vec<Event>>;
    /// Claims up to `limit` pending deliveries due at `now`: their next attempt moves to
    /// `lease`, so no other instance takes them meanwhile.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Delivery>>;
    /// Records a try's outcome (status, attempts, next attempt, error, when delivered).
    async fn finish_delivery(&self, delivery: &Delivery) -> Result<()>;
    /// An integration's deliveries, newest first.
    async fn deliveries(&self, integration: &IntegrationId, limit: u32) -> Result<Vec<Delivery>>;
    /// Forgets what happened before `before`: deliveries no longer pending, then notifications
    /// and closed issues with no delivery left. Open issues and pending deliveries stay.
    /// Answers how many events went.
    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64>;
    /// For each job, when a run of it last succeeded.
    async fn last_successes(&self) -> Result<HashMap<JobId, DateTime<Utc>>>;
    /// Records when a credential was last used.
    async fn touch_credential(&self, id: &TokenId, at: DateTime<Utc>) -> Result<()>;
}

/// A cluster's newest successful backup, as monitoring reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSuccess {
    pub cluster_id: ClusterId,
    pub project_id: ProjectId,
    pub created: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    pub bytes_stored: Option<u64>,
}

/// The fields of a cluster one write changes; what is `None` stays as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterPatch {
    pub status: Option<ClusterStatus>,
    pub health: Option<ClusterHealth>,
    pub addresses: Option<ClusterAddresses>,
    pub disk_size_gb: Option<u32>,
    pub instance_type: Option<InstanceType>,
    /// The server version and its tag, together.
    pub server_version: Option<(String, String)>,
    pub description: Option<String>,
    pub protected: Option<bool>,
}

impl ClusterPatch {
    pub fn status(status: ClusterStatus) -> ClusterPatch {
        ClusterPatch {
            status: Some(status),
            ..ClusterPatch::default()
        }
    }

    /// The patch applied to a cluster in memory (what the store does to its row).
    pub fn apply_to(&self, cluster: &mut Cluster) {
        let ClusterPatch {
            status,
            health,
            addresses,
            disk_size_gb,
            instance_type,
            server_version,
            description,
            protected,
        } = self.clone();
        if let Some(status) = status {
            cluster.status = status;
        }
        if let Some(health) = health {
            cluster.health = health;
        }
        if let Some(addresses) = addresses {
            cluster.addresses = addresses;
        }
        if let Some(disk) = disk_size_gb {
            cluster.disk_size_gb = disk;
        }
        if let Some(instance_type) = instance_type {
            cluster.instance_type = instance_type;
        }
        if let Some((version, tag)) = server_version {
            cluster.server_version = version;
            cluster.server_version_tag = tag;
        }
        if let Some(description) = description {
            cluster.description = description;
        }
        if let Some(protected) = protected {
            cluster.protected = protected;
        }
    }
}

/// The one text a resource has that can change without any other effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renamable {
    OrganizationName,
    ProjectName,
    NetworkDescription,
}

impl Renamable {
    /// `(table, column)`.
    pub fn column(self) -> (&'static str, &'static str) {
        match self {
            Renamable::OrganizationName => ("organizations", "name"),
            Renamable::ProjectName => ("projects", "name"),
            Renamable::NetworkDescription => ("networks", "description"),
        }
    }
}

/// What a finished snapshot is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFacts {
    pub bytes_stored: u64,
    pub bytes_new: u64,
    pub file_count: u64,
    pub checksum: String,
    /// Nodes whose data the snapshot can restore.
    pub available_node_count: u8,
    /// What the snapshot holds, when the engine can tell: a restore must hold exactly this.
    pub contents: Option<cairn_model::ClusterContents>,
}

/// What a verification of a snapshot read and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedFacts {
    pub files: u64,
    pub chunks: u64,
    pub bytes: u64,
}

/// Why the engine could not do something, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A node not responding, or behind on replication.
    #[error("the cluster is not healthy: {0}")]
    Unhealthy(String),
    /// Someone else is using what this needs (a restore of a snapshot being deleted, say):
    /// it is for later, not a failure to announce.
    #[error("{0}")]
    Busy(String),
    #[error("{0}")]
    Failed(String),
}

/// Receives progress reports while a snapshot is taken.
pub type ProgressSink = Arc<dyn Fn(Progress) + Send + Sync>;

/// A change to a running cluster. Each runs under the cluster's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterChange {
    ExpandDisk {
        disk_size_gb: u32,
    },
    Resize {
        instance_type: InstanceType,
    },
    Upgrade {
        server_version: String,
        server_version_tag: String,
    },
    /// Stop the nodes and remove their volumes.
    Delete,
}

/// Runs clusters and takes their snapshots: the embedded engine, or another provider.
#[async_trait]
pub trait Engine: Send + Sync + 'static {
    /// Creates the cluster's nodes (from a backup's snapshot when `source` is given) and answers
    /// where they listen once every node is healthy.
    async fn provision(
        &self,
        cluster: &Cluster,
        source: Option<&Backup>,
    ) -> Result<ClusterAddresses, EngineError>;
    /// Snapshots a healthy node of the cluster into the region's repository.
    async fn snapshot(
        &self,
        cluster: &Cluster,
        backup: &Backup,
        progress: ProgressSink,
    ) -> Result<SnapshotFacts, EngineError>;
    /// Removes a backup's snapshot, also one that finished after its backup was given up on.
    async fn delete_snapshot(&self, backup: &Backup) -> Result<(), EngineError>;
    /// Applies a change (disk, size, version, deletion) to the cluster's nodes.
    async fn apply(&self, cluster: &Cluster, change: &ClusterChange) -> Result<(), EngineError>;
    /// The cluster's health from real probes. Engines that cannot tell say `Ok`.
    async fn health(&self, _cluster: &Cluster) -> Result<ClusterHealth, EngineError> {
        Ok(ClusterHealth::Ok)
    }
    /// Brings up whatever node of the cluster is not running (after a restart of Cairn).
    async fn resume(&self, _cluster: &Cluster) -> Result<(), EngineError> {
        Ok(())
    }
    /// Each node's state from a probe now; empty when the engine cannot tell.
    async fn nodes(&self, _cluster: &Cluster) -> Result<Vec<NodeState>, EngineError> {
        Ok(Vec::new())
    }
    /// Reads every chunk of the backup's snapshot and checks every hash; an error says what is
    /// damaged or missing.
    async fn verify_snapshot(&self, _backup: &Backup) -> Result<VerifiedFacts, EngineError> {
        Err(EngineError::Failed(
            "this engine cannot verify backups".into(),
        ))
    }
    /// What the cluster's log holds now (`None` when the engine cannot tell).
    async fn contents(
        &self,
        _cluster: &Cluster,
    ) -> Result<Option<cairn_model::ClusterContents>, EngineError> {
        Ok(None)
    }
    /// Where the region's backups are kept (`None` when the engine cannot tell).
    async fn repository_facts(
        &self,
        _region: &str,
    ) -> Result<Option<cairn_model::RepositoryFacts>, EngineError> {
        Ok(None)
    }
    /// Housekeeping put off earlier (garbage collection after deletions, say); called by the
    /// maintenance sweep.
    async fn maintain(&self) -> Result<(), EngineError> {
        Ok(())
    }
}

/// Something worth telling a person about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The project it belongs to (its integrations are told); `None` only in tests of the
    /// notifier itself.
    pub scope: Option<crate::services::Scope>,
    /// What sort: `backup-failed`, `backup-deletion-failed`, `restore-failed`,
    /// `provisioning-failed`, `cluster-change-failed`, `scheduled-run-failed`.
    pub category: &'static str,
    pub subject: String,
    pub message: String,
    /// The resource it is about (a backup id, say).
    pub resource_id: String,
}

/// Where notifications go (chat, pager, e-mail integrations; the log by default).
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    async fn notify(&self, notification: Notification);
}

/// The default notifier: a warning in the log, where an operator without integrations looks.
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn notify(&self, n: Notification) {
        tracing::warn!(notification.resource = %n.resource_id, "{}: {}", n.subject, n.message);
    }
}
