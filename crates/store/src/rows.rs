//! Rows as the database holds them, and their checked conversion into model types.
//! A row that does not convert is reported as corrupt, naming the table and the value.

use crate::StoreError;
use cairn_core::Result as CoreResult;
use cairn_model::{
    Cluster, ClusterId, Network, NetworkId, NetworkStatus, Organization, OrganizationId, Project,
    ProjectId,
};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

fn id<T>(
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

impl OrganizationRow {
    pub(crate) fn into_model(self) -> CoreResult<Organization> {
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

impl ProjectRow {
    pub(crate) fn into_model(self) -> CoreResult<Project> {
        Ok(Project {
            id: id("projects", &self.id, ProjectId::parse)?,
            organization_id: id("projects", &self.organization_id, OrganizationId::parse)?,
            name: self.name,
            created: self.created,
        })
    }
}

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

impl NetworkRow {
    pub(crate) fn into_model(self) -> CoreResult<Network> {
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

impl ClusterRow {
    pub(crate) fn into_model(self) -> CoreResult<Cluster> {
        const T: &str = "clusters";
        let disk_size_gb = u32::try_from(self.disk_size_gb)
            .map_err(|_| StoreError::Corrupt(format!("{T}: disk size {}", self.disk_size_gb)))?;
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
                .map(|text| id(T, text, cairn_model::BackupId::parse))
                .transpose()?,
            addresses,
        })
    }
}
