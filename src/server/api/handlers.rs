//! One function per operation of [`super::operations::OPERATIONS`]: resolve the scope (with
//! the role the call needs), call one core use case, wrap the answer.

use super::problem::{ApiError, ApiResult, JsonBody};
use super::{wire, Caller};
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use cairn_model::{
    Backup, BackupId, BackupStatus, ClusterId, ClusterStatus, CreateClusterRequest,
    CreateJobRequest, InstanceType, JobId, JobStatus, JobType, NetworkId, NetworkStatus,
    OrganizationId, Permission, ProjectId,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use Permission::{Administer, Operate, Read};

type Created = ApiResult<(StatusCode, Json<Value>)>;
type Answer = ApiResult<Json<Value>>;

fn created(id: impl serde::Serialize) -> Created {
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

fn done() -> Answer {
    Ok(Json(json!({})))
}

/// An id of the path; one that cannot be an id names nothing, so it is not found.
fn id<T>(
    what: &'static str,
    text: &str,
    parse: impl Fn(&str) -> Result<T, cairn_model::IdError>,
) -> Result<T, cairn_core::Error> {
    parse(text).map_err(|_| cairn_core::Error::not_found(what, text))
}

/// A core field error under the name this call's body uses for it.
fn renamed(error: cairn_core::Error, from: &str, to: &str) -> ApiError {
    match error {
        cairn_core::Error::Invalid(mut fields) => {
            if let Some(message) = fields.remove(from) {
                fields.insert(to.to_owned(), message);
            }
            cairn_core::Error::Invalid(fields).into()
        }
        other => other.into(),
    }
}

#[derive(Debug, Deserialize)]
pub struct NameRequest {
    name: String,
}

#[derive(Debug, Deserialize)]
pub struct DescriptionRequest {
    description: String,
}

// ---- resources/v1: organizations and projects ----

fn organization_id(text: &str) -> Result<OrganizationId, cairn_core::Error> {
    id("organization", text, OrganizationId::parse)
}

/// Organizations hold clusters that run on this machine: making one is for admins of a
/// whole organization, who become admin of the new one too (the core's rule).
pub async fn create_organization(caller: Caller, body: JsonBody<NameRequest>) -> Created {
    // The core decides; asked first so that a refused caller's body is never read.
    caller.actor().require_organization_maker()?;
    let organization = caller
        .services()
        .create_organization(&caller.actor(), &body.read()?.name)
        .await?;
    created(organization.id)
}

pub async fn list_organizations(caller: Caller) -> Answer {
    let organizations: Vec<Value> = caller
        .services()
        .list_organizations(&caller.actor())
        .await?
        .iter()
        .map(wire::organization)
        .collect();
    Ok(Json(json!({ "organizations": organizations })))
}

pub async fn get_organization(caller: Caller, Path(org): Path<String>) -> Answer {
    let organization = caller
        .services()
        .get_organization(&caller.actor(), &organization_id(&org)?)
        .await?;
    Ok(Json(
        json!({ "organization": wire::organization(&organization) }),
    ))
}

pub async fn update_organization(
    caller: Caller,
    Path(org): Path<String>,
    body: JsonBody<NameRequest>,
) -> Answer {
    caller
        .actor()
        .require_organization_admin(&organization_id(&org)?)?;
    caller
        .services()
        .rename_organization(&caller.actor(), &organization_id(&org)?, &body.read()?.name)
        .await?;
    done()
}

pub async fn delete_organization(caller: Caller, Path(org): Path<String>) -> Answer {
    caller
        .services()
        .delete_organization(&caller.actor(), &organization_id(&org)?)
        .await?;
    done()
}

pub async fn create_project(
    caller: Caller,
    Path(org): Path<String>,
    body: JsonBody<NameRequest>,
) -> Created {
    caller
        .actor()
        .require_organization_admin(&organization_id(&org)?)?;
    let project = caller
        .services()
        .create_project(&caller.actor(), &organization_id(&org)?, &body.read()?.name)
        .await?;
    created(project.id)
}

pub async fn list_projects(caller: Caller, Path(org): Path<String>) -> Answer {
    let projects = caller
        .services()
        .list_projects(&caller.actor(), &organization_id(&org)?)
        .await?;
    Ok(Json(json!({ "projects": projects })))
}

pub async fn get_project(caller: Caller, Path((org, project)): Path<(String, String)>) -> Answer {
    let scope = caller.scope(&org, &project, Read).await?;
    let project = caller.services().get_project(&scope).await?;
    Ok(Json(json!({ "project": project })))
}

pub async fn update_project(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    body: JsonBody<NameRequest>,
) -> Answer {
    let scope = caller.scope(&org, &project, Administer).await?;
    caller
        .services()
        .rename_project(&scope, &body.read()?.name)
        .await?;
    done()
}

pub async fn delete_project(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
) -> Answer {
    let place = cairn_core::Place {
        organization_id: organization_id(&org)?,
        project_id: id("project", &project, ProjectId::parse)?,
    };
    caller
        .services()
        .delete_project(&caller.actor(), &place, &caller.console.place)
        .await?;
    done()
}

// ---- infra/v1: networks ----

pub async fn create_network(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    body: JsonBody<cairn_core::CreateNetworkRequest>,
) -> Created {
    let scope = caller.scope(&org, &project, Operate).await?;
    let network = caller
        .services()
        .create_network(&scope, body.read()?)
        .await?;
    created(network.id)
}

pub async fn list_networks(caller: Caller, Path((org, project)): Path<(String, String)>) -> Answer {
    let scope = caller.scope(&org, &project, Read).await?;
    let networks: Vec<Value> = caller
        .services()
        .list_networks(&scope)
        .await?
        .iter()
        .filter(|n| n.status != NetworkStatus::Deleted)
        .map(wire::network)
        .collect();
    Ok(Json(json!({ "networks": networks })))
}

pub async fn get_network(
    caller: Caller,
    Path((org, project, network)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Read).await?;
    let id = id("network", &network, NetworkId::parse)?;
    let network = caller.services().get_network(&scope, &id).await?;
    Ok(Json(json!({ "network": wire::network(&network) })))
}

pub async fn update_network(
    caller: Caller,
    Path((org, project, network)): Path<(String, String, String)>,
    body: JsonBody<DescriptionRequest>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = id("network", &network, NetworkId::parse)?;
    caller
        .services()
        .describe_network(&scope, &id, &body.read()?.description)
        .await?;
    done()
}

pub async fn delete_network(
    caller: Caller,
    Path((org, project, network)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = id("network", &network, NetworkId::parse)?;
    caller.services().delete_network(&scope, &id).await?;
    done()
}

// ---- mesdb/v1: clusters ----

/// Creates a cluster; with `sourceBackupId` it is a restore of that backup.
pub async fn create_cluster(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    body: JsonBody<CreateClusterRequest>,
) -> Created {
    let scope = caller.scope(&org, &project, Operate).await?;
    let cluster = caller
        .services()
        .create_cluster(&scope, body.read()?)
        .await?;
    created(cluster.id)
}

pub async fn get_cluster(
    caller: Caller,
    Path((org, project, cluster)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Read).await?;
    let id = id("cluster", &cluster, ClusterId::parse)?;
    let cluster = caller.services().get_cluster(&scope, &id).await?;
    Ok(Json(json!({ "cluster": wire::cluster(&cluster) })))
}

pub async fn list_clusters(caller: Caller, Path((org, project)): Path<(String, String)>) -> Answer {
    let scope = caller.scope(&org, &project, Read).await?;
    let clusters: Vec<Value> = caller
        .services()
        .list_clusters(&scope)
        .await?
        .iter()
        .filter(|c| c.status != ClusterStatus::Deleted)
        .map(wire::cluster)
        .collect();
    Ok(Json(json!({ "clusters": clusters })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateClusterRequest {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    protected: Option<bool>,
    /// Access lists are a cloud feature Cairn has no counterpart for; accepted and ignored.
    #[serde(default)]
    #[allow(dead_code)]
    acl_id: Option<String>,
}

pub async fn update_cluster(
    caller: Caller,
    Path((org, project, cluster)): Path<(String, String, String)>,
    body: JsonBody<UpdateClusterRequest>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = id("cluster", &cluster, ClusterId::parse)?;
    caller
        .services()
        .update_cluster(
            &scope,
            &id,
            body.read()?.description.as_deref(),
            body.read()?.protected,
        )
        .await?;
    done()
}

pub async fn delete_cluster(
    caller: Caller,
    Path((org, project, cluster)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = id("cluster", &cluster, ClusterId::parse)?;
    caller.services().delete_cluster(&scope, &id).await?;
    done()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpandDiskRequest {
    disk_size_gb: u32,
    #[serde(default)]
    disk_type: Option<String>,
    #[serde(default)]
    disk_iops: Option<u32>,
    #[serde(default)]
    disk_throughput: Option<u32>,
}

impl ExpandDiskRequest {
    /// Local disks have one type and no provisioned IOPS or throughput: asking to change them
    /// is refused by name rather than ignored.
    fn unsupported(&self, cluster: &cairn_model::Cluster) -> Option<ApiError> {
        let mut fields = std::collections::BTreeMap::new();
        if let Some(kind) = self
            .disk_type
            .as_deref()
            .filter(|k| *k != cluster.disk_type)
        {
            fields.insert(
                "diskType".to_owned(),
                format!(
                    "'{kind}': the disk type cannot change (it is {})",
                    cluster.disk_type
                ),
            );
        }
        for (field, value) in [
            ("diskIops", self.disk_iops),
            ("diskThroughput", self.disk_throughput),
        ] {
            if value.is_some() {
                fields.insert(
                    field.to_owned(),
                    format!("{} disks have no provisioned {field}", cluster.disk_type),
                );
            }
        }
        (!fields.is_empty()).then(|| cairn_core::Error::Invalid(fields).into())
    }
}

pub async fn expand_disk(
    caller: Caller,
    Path((org, project, cluster)): Path<(String, String, String)>,
    body: JsonBody<ExpandDiskRequest>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = id("cluster", &cluster, ClusterId::parse)?;
    let request = body.read()?;
    let cluster = caller.services().get_cluster(&scope, &id).await?;
    if let Some(problem) = request.unsupported(&cluster) {
        return Err(problem);
    }
    caller
        .services()
        .expand_disk(&scope, &id, request.disk_size_gb)
        .await?;
    done()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResizeRequest {
    target_size: String,
}

pub async fn resize_cluster(
    caller: Caller,
    Path((org, project, cluster)): Path<(String, String, String)>,
    body: JsonBody<ResizeRequest>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = id("cluster", &cluster, ClusterId::parse)?;
    let target = &body.read()?.target_size;
    let instance_type: InstanceType = serde_json::from_value(json!(target)).map_err(|_| {
        ApiError::invalid(
            "targetSize",
            format!("unknown instance type '{target}': use F1, C4, M8, M16, M32, M64 or M128"),
        )
    })?;
    caller
        .services()
        .resize_cluster(&scope, &id, instance_type)
        .await
        .map_err(|e| renamed(e, "instanceType", "targetSize"))?;
    Ok(Json(json!({ "id": id })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeRequest {
    target_tag: String,
}

pub async fn upgrade_cluster(
    caller: Caller,
    Path((org, project, cluster)): Path<(String, String, String)>,
    body: JsonBody<UpgradeRequest>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = id("cluster", &cluster, ClusterId::parse)?;
    caller
        .services()
        .upgrade_cluster(&scope, &id, body.read()?.target_tag.trim())
        .await
        .map_err(|e| renamed(e, "serverVersion", "targetTag"))?;
    Ok(Json(json!({ "id": id })))
}

// ---- mesdb/v1: backups ----

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBackupRequest {
    source_cluster_id: String,
    description: String,
}

pub async fn create_backup(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    body: JsonBody<CreateBackupRequest>,
) -> Created {
    let scope = caller.scope(&org, &project, Operate).await?;
    let request = body.read()?;
    let cluster_id = ClusterId::parse(request.source_cluster_id.trim())
        .map_err(|e| ApiError::invalid("sourceClusterId", e.to_string()))?;
    let backup = caller
        .services()
        .create_backup(&scope, &cluster_id, &request.description)
        .await?;
    created(backup.id)
}

pub async fn get_backup(
    caller: Caller,
    Path((org, project, backup)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Read).await?;
    let id = id("backup", &backup, BackupId::parse)?;
    let backup = caller.services().get_backup(&scope, &id).await?;
    Ok(Json(json!({ "backup": backup })))
}

pub async fn list_backups(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
) -> ApiResult<axum::response::Response> {
    let scope = caller.scope(&org, &project, Read).await?;
    let backups = caller.services().shared_backup_list(&scope).await?;
    let json = caller
        .console
        .listings
        .json(&scope.project_id, &backups, |backups| {
            let shown: Vec<_> = backups
                .iter()
                .filter(|b| b.status != BackupStatus::Deleted)
                .collect();
            serde_json::to_vec(&std::collections::BTreeMap::from([("backups", shown)]))
        })?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        json,
    )
        .into_response())
}

/// The JSON last made of each project's shared list of backups (see
/// `Services::shared_backup_list`), made again only when the list is another: two hundred
/// clients listing the same hundred backups cost one serialization, not two hundred.
#[derive(Default)]
pub struct Listings {
    made: std::sync::Mutex<std::collections::HashMap<ProjectId, MadeFrom>>,
}

/// A list, and the JSON made of it.
type MadeFrom = (Arc<Vec<Backup>>, Bytes);

/// Projects whose JSON is kept at most.
const LISTINGS_HELD: usize = 1_000;

impl Listings {
    fn json(
        &self,
        project: &ProjectId,
        list: &Arc<Vec<Backup>>,
        make: impl FnOnce(&[Backup]) -> serde_json::Result<Vec<u8>>,
    ) -> ApiResult<Bytes> {
        if let Some((made_from, json)) = self.made.lock().expect("listings").get(project) {
            if Arc::ptr_eq(made_from, list) {
                return Ok(json.clone());
            }
        }
        let json = Bytes::from(make(list).map_err(|e| {
            cairn_core::Error::internal(format!("writing the list of backups: {e}"))
        })?);
        let mut made = self.made.lock().expect("listings");
        if made.len() >= LISTINGS_HELD {
            made.clear();
        }
        made.insert(project.clone(), (list.clone(), json.clone()));
        Ok(json)
    }
}

/// `{"<key>": [items]}`, serialized straight from the items: a list goes out without first
/// becoming a tree of JSON values (four times the work for a hundred backups, measured).
fn listed<T: serde::Serialize>(key: &'static str, items: &[T]) -> axum::response::Response {
    use axum::response::IntoResponse;
    Json(std::collections::BTreeMap::from([(key, items)])).into_response()
}

pub async fn delete_backup(
    caller: Caller,
    Path((org, project, backup)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = id("backup", &backup, BackupId::parse)?;
    caller.services().delete_backup(&scope, &id).await?;
    done()
}

pub async fn verify_backup(
    caller: Caller,
    Path((org, project, backup)): Path<(String, String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = id("backup", &backup, BackupId::parse)?;
    let backup = caller.services().verify_backup(&scope, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "backup": backup }))))
}

pub async fn list_backup_storage(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Read).await?;
    let repositories = caller.services().backup_storage(&scope).await?;
    Ok(Json(json!({ "repositories": repositories })))
}

// ---- orchestrate/v1: jobs and history ----

/// Kurrent's create-job body: the request plus `"type": "ScheduledBackup"`.
#[derive(Debug, Deserialize)]
pub struct CreateJobBody {
    #[serde(rename = "type", default)]
    job_type: Option<String>,
    #[serde(flatten)]
    request: CreateJobRequest,
}

pub async fn create_job(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    body: JsonBody<CreateJobBody>,
) -> Created {
    let scope = caller.scope(&org, &project, Operate).await?;
    let body = body.read()?;
    let job = match body.job_type.as_deref().unwrap_or("ScheduledBackup") {
        "ScheduledBackup" => caller.services().create_job(&scope, &body.request).await?,
        "ScheduledRestoreTest" => {
            let request = cairn_core::restore_tests::CreateRestoreTestRequest {
                description: body.request.description.clone(),
                schedule: body.request.schedule.clone(),
                cluster_id: body.request.data.cluster_id.clone(),
            };
            caller
                .services()
                .create_restore_test(&scope, &request)
                .await?
        }
        kind => {
            return Err(ApiError::invalid(
                "type",
                format!("unknown job type '{kind}': use ScheduledBackup or ScheduledRestoreTest"),
            ))
        }
    };
    created(job.id)
}

#[derive(Debug, Deserialize)]
pub struct JobsQuery {
    #[serde(rename = "type", default)]
    job_type: Option<String>,
}

/// Scheduled backups only, unless asked: strict clients (`esc`) know no other job type.
pub async fn list_jobs(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    query: Result<Query<JobsQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer {
    let scope = caller.scope(&org, &project, Read).await?;
    let query = query.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let wanted = match query.0.job_type.as_deref().unwrap_or("ScheduledBackup") {
        "ScheduledBackup" => Some(JobType::ScheduledBackup),
        "ScheduledRestoreTest" => Some(JobType::ScheduledRestoreTest),
        "all" => None,
        other => {
            return Err(ApiError::invalid(
                "type",
                format!(
                    "unknown job type '{other}': use ScheduledBackup, ScheduledRestoreTest or all"
                ),
            ))
        }
    };
    let jobs: Vec<_> = caller
        .services()
        .list_jobs(&scope)
        .await?
        .into_iter()
        .filter(|j| j.status != JobStatus::Deleted)
        .filter(|j| wanted.is_none_or(|t| j.job_type == t))
        .collect();
    Ok(Json(json!({ "jobs": jobs })))
}

pub async fn get_job(
    caller: Caller,
    Path((org, project, job)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Read).await?;
    let id = id("job", &job, JobId::parse)?;
    let job = caller.services().get_job(&scope, &id).await?;
    Ok(Json(json!({ "job": job })))
}

pub async fn delete_job(
    caller: Caller,
    Path((org, project, job)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = id("job", &job, JobId::parse)?;
    caller
        .services()
        .change_job(&scope, &id, cairn_core::lifecycle::JobEvent::Delete)
        .await?;
    done()
}

pub async fn run_job(
    caller: Caller,
    Path((org, project, job)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = id("job", &job, JobId::parse)?;
    let item = caller.services().run_job_now(&scope, &id).await?;
    Ok(Json(json!({ "historyId": item.id })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryQuery {
    #[serde(default)]
    job_id: Option<String>,
}

pub async fn list_history(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::response::Response> {
    let scope = caller.scope(&org, &project, Read).await?;
    let query = query.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let job = match query.0.job_id.as_deref().filter(|j| !j.is_empty()) {
        Some(job) => Some(id("job", job, JobId::parse)?),
        None => None,
    };
    let items = caller.services().list_history(&scope, job.as_ref()).await?;
    Ok(listed("items", &items))
}

// ---- integrate/v1: integrations ----

fn integration_id(text: &str) -> Result<cairn_model::IntegrationId, cairn_core::Error> {
    id("integration", text, cairn_model::IntegrationId::parse)
}

pub async fn create_integration(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    body: JsonBody<cairn_model::IntegrationRequest>,
) -> Created {
    let scope = caller.scope(&org, &project, Operate).await?;
    let integration = caller
        .services()
        .create_integration(&scope, body.read()?)
        .await?;
    created(integration.id)
}

pub async fn list_integrations(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Read).await?;
    let integrations: Vec<_> = caller
        .services()
        .list_integrations(&scope)
        .await?
        .iter()
        .map(cairn_model::Integration::view)
        .collect();
    Ok(Json(json!({ "integrations": integrations })))
}

pub async fn get_integration(
    caller: Caller,
    Path((org, project, integration)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Read).await?;
    let id = integration_id(&integration)?;
    let integration = caller.services().get_integration(&scope, &id).await?;
    Ok(Json(json!({ "integration": integration.view() })))
}

pub async fn update_integration(
    caller: Caller,
    Path((org, project, integration)): Path<(String, String, String)>,
    body: JsonBody<cairn_model::IntegrationRequest>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = integration_id(&integration)?;
    caller
        .services()
        .update_integration(&scope, &id, body.read()?)
        .await?;
    done()
}

pub async fn delete_integration(
    caller: Caller,
    Path((org, project, integration)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = integration_id(&integration)?;
    caller.services().delete_integration(&scope, &id).await?;
    done()
}

/// Sends a sample message now; a sink that refuses it is reported in the delivery (200), not
/// as an API error: the call itself worked.
pub async fn test_integration(
    caller: Caller,
    Path((org, project, integration)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = integration_id(&integration)?;
    let delivery = caller.services().test_integration(&scope, &id).await?;
    Ok(Json(json!({ "delivery": delivery })))
}
