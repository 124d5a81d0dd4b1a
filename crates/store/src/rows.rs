//! Rows as the database holds them, and their checked conversion into model types.
//! A row that does not convert is reported as corrupt, naming the table and the value.

use crate::{IntoModel, StoreError};
use cairn_core::{ClusterLock, Credential, CredentialKind, LockKind, Result as CoreResult};
use cairn_model::{
    Backup, BackupId, Cluster, ClusterId, Delivery, DeliveryId, Event, EventId, Grant, HistoryId,
    HistoryItem, Integration, IntegrationId, Job, JobId, Network, NetworkId, NetworkStatus,
    Organization, OrganizationId, Project, ProjectId, ScheduledBackupData, TokenId, User, UserId,
};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

pub(crate) fn id<T>(
    table: &str,
    text: &str,
    parse: impl Fn(&str) -> Result<T, cairn_model::IdError>,
) -> CoreResult<T> {
    parse(text).map_err(|e| StoreError::Corrupt(format!("{table}: id '{text}': {e}")).into())
}

/// Enums are stored by their wire names, so the database reads like the API.
fn wire_enum<T: DeserializeOwned>(table: &str, text: &str) -> CoreResult<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|e| StoreError::Corrupt(format!("{table}: value '{text}': {e}")).into())
}

#[derive(sqlx::FromRow)]
pub(crate) struct OrganizationRow {
    id: String,
    name: String,
    created: DateTime<Utc>,
}

impl IntoModel<Organization> for OrganizationRow {
    fn into_model(self) -> CoreResult<Organization> {
        Ok(Organization {
            id: id("organizations", &self.id, OrganizationId::parse)?,
            name: self.name,
            created: self.created,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ProjectRow {
    id: String,
    organization_id: String,
    name: String,
    created: DateTime<Utc>,
}

impl IntoModel<Project> for ProjectRow {
    fn into_model(self) -> CoreResult<Project> {
        Ok(Project {
            id: id("projects", &self.id, ProjectId::parse)?,
            organization_id: id("projects", &self.organization_id, OrganizationId::parse)?,
            name: self.name,
            created: self.created,
        })
    }
}

pub(crate) const NETWORK_COLUMNS: &str =
    "id, project_id, provider, region, description, public_access, cidr_block, status, created";

#[derive(sqlx::FromRow)]
pub(crate) struct NetworkRow {
    id: String,
    project_id: String,
    provider: String,
    region: String,
    description: String,
    public_access: bool,
    cidr_block: Option<String>,
    status: String,
    created: DateTime<Utc>,
}

impl IntoModel<Network> for NetworkRow {
    fn into_model(self) -> CoreResult<Network> {
        let status = NetworkStatus::parse(&self.status)
            .ok_or_else(|| StoreError::Corrupt(format!("networks: status '{}'", self.status)))?;
        Ok(Network {
            id: id("networks", &self.id, NetworkId::parse)?,
            project_id: id("networks", &self.project_id, ProjectId::parse)?,
            provider: self.provider,
            region: self.region,
            description: self.description,
            public_access: self.public_access,
            cidr_block: self.cidr_block,
            status,
            created: self.created,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClusterRow {
    id: String,
    organization_id: String,
    project_id: String,
    network_id: String,
    description: String,
    provider: String,
    region: String,
    topology: String,
    instance_type: String,
    disk_size_gb: i64,
    disk_type: String,
    server_version: String,
    server_version_tag: String,
    projection_level: String,
    status: String,
    health: String,
    protected: bool,
    created: DateTime<Utc>,
    source_backup_id: Option<String>,
    addresses: String,
}

impl IntoModel<Cluster> for ClusterRow {
    fn into_model(self) -> CoreResult<Cluster> {
        const T: &str = "clusters";
        let disk_size_gb = count(T, "disk_size_gb", self.disk_size_gb)?;
        let addresses = serde_json::from_str(&self.addresses)
            .map_err(|e| StoreError::Corrupt(format!("{T}: addresses: {e}")))?;
        Ok(Cluster {
            id: id(T, &self.id, ClusterId::parse)?,
            organization_id: id(T, &self.organization_id, OrganizationId::parse)?,
            project_id: id(T, &self.project_id, ProjectId::parse)?,
            network_id: id(T, &self.network_id, NetworkId::parse)?,
            description: self.description,
            provider: self.provider,
            region: self.region,
            topology: wire_enum(T, &self.topology)?,
            instance_type: wire_enum(T, &self.instance_type)?,
            disk_size_gb,
            disk_type: self.disk_type,
            server_version: self.server_version,
            server_version_tag: self.server_version_tag,
            projection_level: wire_enum(T, &self.projection_level)?,
            status: wire_enum(T, &self.status)?,
            health: wire_enum(T, &self.health)?,
            protected: self.protected,
            created: self.created,
            source_backup_id: self
                .source_backup_id
                .as_deref()
                .map(|text| id(T, text, BackupId::parse))
                .transpose()?,
            addresses,
        })
    }
}

/// The wire name of an enum, for storing it (the inverse of [`wire_enum`]).
pub(crate) fn wire_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        other => unreachable!("status enums serialize as strings, not {other:?}"),
    }
}

pub(crate) const LOCK_COLUMNS: &str = "cluster_id, kind, holder_id, job_id, acquired_at, owner";

#[derive(sqlx::FromRow)]
pub(crate) struct LockRow {
    cluster_id: String,
    kind: String,
    holder_id: String,
    job_id: Option<String>,
    acquired_at: DateTime<Utc>,
    owner: String,
}

impl IntoModel<ClusterLock> for LockRow {
    fn into_model(self) -> CoreResult<ClusterLock> {
        const T: &str = "cluster_locks";
        Ok(ClusterLock {
            cluster_id: id(T, &self.cluster_id, ClusterId::parse)?,
            kind: LockKind::parse(&self.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("{T}: kind '{}'", self.kind)))?,
            holder_id: self.holder_id,
            job_id: self
                .job_id
                .as_deref()
                .map(|text| id(T, text, JobId::parse))
                .transpose()?,
            acquired_at: self.acquired_at,
            owner: self.owner,
        })
    }
}

pub(crate) const BACKUP_COLUMNS: &str = "id, project_id, description, source_cluster_id, \
     source_cluster_description, provider, region, server_version, server_version_tag, size_gb, \
     available_node_count, status, created, linked_resource, bytes_stored, bytes_new, file_count, \
     checksum, failure_reason, finished, event_count, last_position, verification, source_shape, \
     created_by";

#[derive(sqlx::FromRow)]
pub(crate) struct BackupRow {
    id: String,
    project_id: String,
    description: String,
    source_cluster_id: String,
    source_cluster_description: String,
    provider: String,
    region: String,
    server_version: String,
    server_version_tag: String,
    size_gb: i64,
    available_node_count: i64,
    status: String,
    created: DateTime<Utc>,
    linked_resource: Option<String>,
    bytes_stored: Option<i64>,
    bytes_new: Option<i64>,
    file_count: Option<i64>,
    checksum: Option<String>,
    failure_reason: Option<String>,
    finished: Option<DateTime<Utc>>,
    event_count: Option<i64>,
    last_position: Option<i64>,
    verification: Option<String>,
    source_shape: Option<String>,
    created_by: Option<String>,
}

fn count<T: TryFrom<i64>>(table: &str, column: &str, value: i64) -> CoreResult<T> {
    T::try_from(value).map_err(|_| StoreError::Corrupt(format!("{table}: {column} {value}")).into())
}

impl IntoModel<Backup> for BackupRow {
    fn into_model(self) -> CoreResult<Backup> {
        const T: &str = "backups";
        let optional = |column: &str, value: Option<i64>| -> CoreResult<Option<u64>> {
            value.map(|v| count(T, column, v)).transpose()
        };
        Ok(Backup {
            id: id(T, &self.id, BackupId::parse)?,
            project_id: id(T, &self.project_id, ProjectId::parse)?,
            description: self.description,
            source_cluster_id: id(T, &self.source_cluster_id, ClusterId::parse)?,
            source_cluster_description: self.source_cluster_description,
            provider: self.provider,
            region: self.region,
            server_version: self.server_version,
            server_version_tag: self.server_version_tag,
            size_gb: count(T, "size_gb", self.size_gb)?,
            available_node_count: count(T, "available_node_count", self.available_node_count)?,
            status: wire_enum(T, &self.status)?,
            created: self.created,
            linked_resource: self
                .linked_resource
                .as_deref()
                .map(|text| id(T, text, JobId::parse))
                .transpose()?,
            bytes_stored: optional("bytes_stored", self.bytes_stored)?,
            bytes_new: optional("bytes_new", self.bytes_new)?,
            file_count: optional("file_count", self.file_count)?,
            checksum: self.checksum,
            progress: None,
            failure_reason: self.failure_reason,
            finished: self.finished,
            contents: match (self.event_count, self.last_position) {
                (Some(events), Some(position)) => Some(cairn_model::ClusterContents {
                    event_count: count(T, "event_count", events)?,
                    last_position: count(T, "last_position", position)?,
                }),
                _ => None,
            },
            verification: self
                .verification
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("{T}: verification: {e}")))?,
            source_shape: self
                .source_shape
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("{T}: source_shape: {e}")))?,
            created_by: self.created_by,
        })
    }
}

pub(crate) const CLUSTER_COLUMNS: &str = "id, organization_id, project_id, network_id, \
     description, provider, region, topology, instance_type, disk_size_gb, disk_type, \
     server_version, server_version_tag, projection_level, status, health, protected, created, \
     source_backup_id, addresses";

pub(crate) const JOB_COLUMNS: &str = "id, organization_id, project_id, description, schedule, \
     status, job_type, cluster_id, label, max_backup_count, created";

#[derive(sqlx::FromRow)]
pub(crate) struct JobRow {
    id: String,
    organization_id: String,
    project_id: String,
    description: String,
    schedule: String,
    status: String,
    job_type: String,
    cluster_id: String,
    label: String,
    max_backup_count: i64,
    created: DateTime<Utc>,
}

impl IntoModel<Job> for JobRow {
    fn into_model(self) -> CoreResult<Job> {
        const T: &str = "jobs";
        Ok(Job {
            id: id(T, &self.id, JobId::parse)?,
            organization_id: id(T, &self.organization_id, OrganizationId::parse)?,
            project_id: id(T, &self.project_id, ProjectId::parse)?,
            description: self.description,
            schedule: self.schedule,
            status: wire_enum(T, &self.status)?,
            job_type: wire_enum(T, &self.job_type)?,
            data: ScheduledBackupData {
                cluster_id: id(T, &self.cluster_id, ClusterId::parse)?,
                description: self.label,
                max_backup_count: count(T, "max_backup_count", self.max_backup_count)?,
            },
            created: self.created,
        })
    }
}

pub(crate) const HISTORY_COLUMNS: &str = "id, job_id, organization_id, project_id, status, \
     details, linked_resource, start_time, end_time";

#[derive(sqlx::FromRow)]
pub(crate) struct HistoryRow {
    id: String,
    job_id: String,
    organization_id: String,
    project_id: String,
    status: String,
    details: String,
    linked_resource: Option<String>,
    start_time: DateTime<Utc>,
    end_time: Option<DateTime<Utc>>,
}

impl IntoModel<HistoryItem> for HistoryRow {
    fn into_model(self) -> CoreResult<HistoryItem> {
        const T: &str = "job_history";
        Ok(HistoryItem {
            id: id(T, &self.id, HistoryId::parse)?,
            job_id: id(T, &self.job_id, JobId::parse)?,
            organization_id: id(T, &self.organization_id, OrganizationId::parse)?,
            project_id: id(T, &self.project_id, ProjectId::parse)?,
            status: wire_enum(T, &self.status)?,
            details: self.details,
            linked_resource: self
                .linked_resource
                .as_deref()
                .map(|text| id(T, text, BackupId::parse))
                .transpose()?,
            start_time: self.start_time,
            end_time: self.end_time,
        })
    }
}

/// A running job with what its schedule counts from.
#[derive(sqlx::FromRow)]
pub(crate) struct ScheduledJobRow {
    #[sqlx(flatten)]
    job: JobRow,
    schedule_from: Option<DateTime<Utc>>,
    last_due: Option<DateTime<Utc>>,
}

impl IntoModel<(Job, DateTime<Utc>)> for ScheduledJobRow {
    fn into_model(self) -> CoreResult<(Job, DateTime<Utc>)> {
        let job: Job = self.job.into_model()?;
        let from = [self.schedule_from, self.last_due]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(job.created);
        Ok((job, from))
    }
}

pub(crate) const USER_COLUMNS: &str = "id, email, password_hash, created";

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: String,
    email: String,
    password_hash: String,
    created: DateTime<Utc>,
}

impl IntoModel<(User, String)> for UserRow {
    /// The user, and their password hash.
    fn into_model(self) -> CoreResult<(User, String)> {
        let user = User {
            id: id("users", &self.id, UserId::parse)?,
            email: self.email,
            created: self.created,
        };
        Ok((user, self.password_hash))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct GrantRow {
    user_id: String,
    organization_id: String,
    project_id: String,
    role: String,
}

impl IntoModel<Grant> for GrantRow {
    fn into_model(self) -> CoreResult<Grant> {
        const T: &str = "grants";
        let project_id = match self.project_id.as_str() {
            "" => None,
            text => Some(id(T, text, ProjectId::parse)?),
        };
        Ok(Grant {
            user_id: id(T, &self.user_id, UserId::parse)?,
            organization_id: id(T, &self.organization_id, OrganizationId::parse)?,
            project_id,
            role: wire_enum(T, &self.role)?,
        })
    }
}

pub(crate) const CREDENTIAL_COLUMNS: &str =
    "id, kind, user_id, hash, description, parent_id, created, expires, last_used, revoked";

#[derive(sqlx::FromRow)]
pub(crate) struct CredentialRow {
    id: String,
    kind: String,
    user_id: String,
    hash: String,
    description: String,
    parent_id: Option<String>,
    created: DateTime<Utc>,
    expires: Option<DateTime<Utc>>,
    last_used: Option<DateTime<Utc>>,
    revoked: Option<DateTime<Utc>>,
}

impl IntoModel<Credential> for CredentialRow {
    fn into_model(self) -> CoreResult<Credential> {
        const T: &str = "credentials";
        let kind = CredentialKind::parse(&self.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("{T}: kind '{}'", self.kind)))?;
        Ok(Credential {
            id: id(T, &self.id, TokenId::parse)?,
            kind,
            user_id: id(T, &self.user_id, UserId::parse)?,
            hash: self.hash,
            description: self.description,
            parent: self
                .parent_id
                .map(|p| id(T, &p, TokenId::parse))
                .transpose()?,
            created: self.created,
            expires: self.expires,
            last_used: self.last_used,
            revoked: self.revoked,
        })
    }
}

pub(crate) const INTEGRATION_COLUMNS: &str =
    "id, organization_id, project_id, description, source, sink, created, updated";

#[derive(sqlx::FromRow)]
pub(crate) struct IntegrationRow {
    id: String,
    organization_id: String,
    project_id: String,
    description: String,
    source: String,
    sink: String,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
}

impl IntoModel<Integration> for IntegrationRow {
    fn into_model(self) -> CoreResult<Integration> {
        const T: &str = "integrations";
        Ok(Integration {
            id: id(T, &self.id, IntegrationId::parse)?,
            organization_id: id(T, &self.organization_id, OrganizationId::parse)?,
            project_id: id(T, &self.project_id, ProjectId::parse)?,
            description: self.description,
            source: wire_enum(T, &self.source)?,
            sink: serde_json::from_str(&self.sink)
                .map_err(|e| StoreError::Corrupt(format!("{T}: sink: {e}")))?,
            created: self.created,
            updated: self.updated,
        })
    }
}

pub(crate) const EVENT_COLUMNS: &str = "id, organization_id, project_id, kind, category, subject, \
     message, resource_id, status, created, closed";

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    id: String,
    organization_id: String,
    project_id: String,
    kind: String,
    category: String,
    subject: String,
    message: String,
    resource_id: String,
    status: Option<String>,
    created: DateTime<Utc>,
    closed: Option<DateTime<Utc>>,
}

impl IntoModel<Event> for EventRow {
    fn into_model(self) -> CoreResult<Event> {
        const T: &str = "events";
        Ok(Event {
            id: id(T, &self.id, EventId::parse)?,
            organization_id: id(T, &self.organization_id, OrganizationId::parse)?,
            project_id: id(T, &self.project_id, ProjectId::parse)?,
            kind: wire_enum(T, &self.kind)?,
            category: self.category,
            subject: self.subject,
            message: self.message,
            resource_id: self.resource_id,
            status: self.status.map(|s| wire_enum(T, &s)).transpose()?,
            created: self.created,
            closed: self.closed,
        })
    }
}

pub(crate) const DELIVERY_COLUMNS: &str = "id, integration_id, event_id, summary, announces, \
     status, attempts, next_attempt, last_error, created, delivered";

#[derive(sqlx::FromRow)]
pub(crate) struct DeliveryRow {
    id: String,
    integration_id: String,
    event_id: String,
    summary: String,
    announces: Option<String>,
    status: String,
    attempts: i64,
    next_attempt: Option<DateTime<Utc>>,
    last_error: Option<String>,
    created: DateTime<Utc>,
    delivered: Option<DateTime<Utc>>,
}

impl IntoModel<Delivery> for DeliveryRow {
    fn into_model(self) -> CoreResult<Delivery> {
        const T: &str = "deliveries";
        Ok(Delivery {
            id: id(T, &self.id, DeliveryId::parse)?,
            integration_id: id(T, &self.integration_id, IntegrationId::parse)?,
            event_id: id(T, &self.event_id, EventId::parse)?,
            summary: self.summary,
            announces: self.announces.map(|s| wire_enum(T, &s)).transpose()?,
            status: wire_enum(T, &self.status)?,
            attempts: count(T, "attempts", self.attempts)?,
            next_attempt: self.next_attempt,
            last_error: self.last_error,
            created: self.created,
            delivered: self.delivered,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct LastSuccessRow {
    pub(crate) job_id: String,
    pub(crate) last: DateTime<Utc>,
}

/// A cluster's last successful backup (`Store::last_backup_successes`).
#[derive(sqlx::FromRow)]
pub(crate) struct LastBackupRow {
    pub(crate) source_cluster_id: String,
    pub(crate) project_id: String,
    pub(crate) created: DateTime<Utc>,
    pub(crate) finished: Option<DateTime<Utc>>,
    pub(crate) bytes_stored: Option<i64>,
}

/// A job's backups counted (`Store::job_backup_counts`).
#[derive(sqlx::FromRow)]
pub(crate) struct JobBackupCountRow {
    pub(crate) job_id: String,
    pub(crate) count: i64,
    pub(crate) available: i64,
    pub(crate) newest: DateTime<Utc>,
}
