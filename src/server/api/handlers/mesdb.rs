//! mesdb/v1: clusters, backups, their storage and verification.

use super::{by_id, created, done, renamed, Answer, Created};
use crate::server::api::problem::{ApiError, ApiResult, JsonBody};
use crate::server::api::{wire, InProject, Operates, PathId, Reads};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use cairn_model::{
    BackupId, BackupStatus, ClusterId, ClusterStatus, CreateClusterRequest, InstanceType,
};
use serde::Deserialize;
use serde_json::{json, Value};

// ---- clusters ----

/// Creates a cluster; with `sourceBackupId` it is a restore of that backup.
pub async fn create_cluster(
    InProject { caller, scope, .. }: InProject<Operates>,
    body: JsonBody<CreateClusterRequest>,
) -> Created {
    let cluster = caller
        .services()
        .create_cluster(&scope, body.read()?)
        .await?;
    created(cluster.id)
}

by_id!(get_cluster: Reads, ClusterId => get_cluster() => "cluster" as wire::cluster);

pub async fn list_clusters(InProject { caller, scope, .. }: InProject<Reads>) -> Answer {
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
    InProject { caller, scope, .. }: InProject<Operates>,
    PathId(id): PathId<ClusterId>,
    body: JsonBody<UpdateClusterRequest>,
) -> Answer {
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

by_id!(delete_cluster: Operates, ClusterId => delete_cluster() => {});

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
    project: InProject<Operates>,
    PathId(id): PathId<ClusterId>,
    body: JsonBody<ExpandDiskRequest>,
) -> Answer {
    let InProject { caller, scope, .. } = &project;
    let request = body.read()?;
    let cluster = caller.services().get_cluster(scope, &id).await?;
    if let Some(problem) = request.unsupported(&cluster) {
        return Err(project.fault(problem));
    }
    caller
        .services()
        .expand_disk(scope, &id, request.disk_size_gb)
        .await?;
    done()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResizeRequest {
    target_size: String,
}

pub async fn resize_cluster(
    project: InProject<Operates>,
    PathId(id): PathId<ClusterId>,
    body: JsonBody<ResizeRequest>,
) -> Answer {
    let InProject { caller, scope, .. } = &project;
    let target = &body.read()?.target_size;
    let instance_type: InstanceType = serde_json::from_value(json!(target)).map_err(|_| {
        project.fault(ApiError::invalid(
            "targetSize",
            format!("unknown instance type '{target}': use F1, C4, M8, M16, M32, M64 or M128"),
        ))
    })?;
    caller
        .services()
        .resize_cluster(scope, &id, instance_type)
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
    InProject { caller, scope, .. }: InProject<Operates>,
    PathId(id): PathId<ClusterId>,
    body: JsonBody<UpgradeRequest>,
) -> Answer {
    caller
        .services()
        .upgrade_cluster(&scope, &id, body.read()?.target_tag.trim())
        .await
        .map_err(|e| renamed(e, "serverVersion", "targetTag"))?;
    Ok(Json(json!({ "id": id })))
}

// ---- backups ----

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBackupRequest {
    source_cluster_id: String,
    description: String,
}

pub async fn create_backup(
    project: InProject<Operates>,
    body: JsonBody<CreateBackupRequest>,
) -> Created {
    let InProject { caller, scope, .. } = &project;
    let request = body.read()?;
    let cluster_id = ClusterId::parse(request.source_cluster_id.trim())
        .map_err(|e| project.fault(ApiError::invalid("sourceClusterId", e.to_string())))?;
    let backup = caller
        .services()
        .create_backup(scope, &cluster_id, &request.description)
        .await?;
    created(backup.id)
}

by_id!(get_backup: Reads, BackupId => get_backup() => "backup" as wire::backup);

by_id!(
    /// Stops a backup being created; answers it once it is `cancelled` (on the wire: see
    /// `wire::backup`).
    cancel_backup: Operates, BackupId => cancel_backup() => "backup" as wire::backup
);

/// Every backup, as Kurrent Cloud's clients read the list; with any paging parameter, one
/// page of them (and `nextPageToken`).
pub async fn list_backups(
    InProject { caller, scope, .. }: InProject<Reads>,
    query: super::PageParams,
) -> ApiResult<axum::response::Response> {
    let query = super::page_query(query)?;
    if query.is_paged() {
        let request = cairn_core::paging::page_request(&query)?;
        let page = caller.services().page_backups(&scope, &request).await?;
        let shown: Vec<_> = page.items.iter().map(wire::listed_backup).collect();
        return Ok(super::paged("backups", &shown, page.next_token.as_deref()));
    }
    let backups = caller.services().shared_backup_list(&scope).await?;
    let json = caller
        .console
        .listings
        .json(&scope.project_id, &backups, |backups| {
            let shown: Vec<_> = backups
                .iter()
                .filter(|b| b.status != BackupStatus::Deleted)
                .map(wire::listed_backup)
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

by_id!(delete_backup: Operates, BackupId => delete_backup() => {});

pub async fn verify_backup(
    InProject { caller, scope, .. }: InProject<Operates>,
    PathId(id): PathId<BackupId>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let backup = caller.services().verify_backup(&scope, &id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "backup": wire::backup(&backup) })),
    ))
}

pub async fn list_backup_storage(InProject { caller, scope, .. }: InProject<Reads>) -> Answer {
    let repositories = caller.services().backup_storage(&scope).await?;
    Ok(Json(json!({ "repositories": repositories })))
}
