//! The REST API, wire-compatible with Kurrent Cloud's (domain.md §1–2): paths scoped
//! `/{service}/v1/organizations/{org}/projects/{project}/…`, camelCase JSON, wrapped answers
//! (`{"backup": …}`, `{"backups": […]}`, `{"id": …}`), errors as RFC 7807 ProblemDetails with
//! a `fields` map. Handlers are thin: resolve the scope, call one core use case, wrap.
//!
//! Built in steps for issue 7; so far `mesdb/v1` backups and clusters (without resize, upgrade
//! and update yet). Authentication is still to come: until it is, the API is as open as the
//! console.

mod problem;

use crate::server::Console;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use cairn_core::Scope;
use cairn_model::{BackupId, ClusterId, OrganizationId, ProjectId};
use problem::{ApiError, ApiResult};
use serde::Deserialize;
use serde_json::{json, Value};

const PROJECT: &str = "/organizations/{org}/projects/{project}";

/// The API's routes, over the console's services.
pub fn router<S: Clone + Send + Sync + 'static>(console: Console) -> Router<S> {
    Router::new()
        .route(
            &format!("/mesdb/v1{PROJECT}/backups"),
            get(list_backups).post(create_backup),
        )
        .route(
            &format!("/mesdb/v1{PROJECT}/backups/{{id}}"),
            get(get_backup).delete(delete_backup),
        )
        .route(
            &format!("/mesdb/v1{PROJECT}/clusters"),
            get(list_clusters).post(create_cluster),
        )
        .route(
            &format!("/mesdb/v1{PROJECT}/clusters/{{id}}"),
            get(get_cluster).delete(delete_cluster),
        )
        .route(
            &format!("/mesdb/v1{PROJECT}/clusters/{{id}}/disk/expand"),
            axum::routing::put(expand_disk),
        )
        .layer(axum::middleware::from_fn(problem::problem_details))
        .with_state(console)
}

/// The organization and project of the path, checked to exist together; anything else in the
/// path is then looked up inside that project only (another project's id is a 404).
async fn scope(console: &Console, org: &str, project: &str) -> Result<Scope, cairn_core::Error> {
    let organization_id = OrganizationId::parse(org)
        .map_err(|_| cairn_core::Error::not_found("organization", org))?;
    let project_id =
        ProjectId::parse(project).map_err(|_| cairn_core::Error::not_found("project", project))?;
    console
        .services
        .get_project(&organization_id, &project_id)
        .await?;
    Ok(Scope {
        organization_id,
        project_id,
    })
}

fn id<T>(
    what: &'static str,
    text: &str,
    parse: impl Fn(&str) -> Result<T, cairn_model::IdError>,
) -> Result<T, cairn_core::Error> {
    parse(text).map_err(|_| cairn_core::Error::not_found(what, text))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateBackupRequest {
    source_cluster_id: String,
    description: String,
}

async fn create_backup(
    State(console): State<Console>,
    Path((org, project)): Path<(String, String)>,
    body: problem::JsonBody<CreateBackupRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let scope = scope(&console, &org, &project).await?;
    let request = body.0;
    let cluster_id = ClusterId::parse(request.source_cluster_id.trim())
        .map_err(|e| ApiError::invalid("sourceClusterId", e.to_string()))?;
    let backup = console
        .services
        .create_backup(&scope, &cluster_id, &request.description)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": backup.id }))))
}

async fn get_backup(
    State(console): State<Console>,
    Path((org, project, backup)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let scope = scope(&console, &org, &project).await?;
    let id = id("backup", &backup, BackupId::parse)?;
    let backup = console.services.get_backup(&scope, &id).await?;
    Ok(Json(json!({ "backup": backup })))
}

async fn list_backups(
    State(console): State<Console>,
    Path((org, project)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let scope = scope(&console, &org, &project).await?;
    let backups: Vec<_> = console
        .services
        .list_backups(&scope)
        .await?
        .into_iter()
        .filter(|b| b.status != cairn_model::BackupStatus::Deleted)
        .collect();
    Ok(Json(json!({ "backups": backups })))
}

async fn delete_backup(
    State(console): State<Console>,
    Path((org, project, backup)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let scope = scope(&console, &org, &project).await?;
    let id = id("backup", &backup, BackupId::parse)?;
    console.services.delete_backup(&scope, &id).await?;
    Ok(Json(json!({})))
}

/// Creates a cluster; with `sourceBackupId` it is a restore of that backup.
async fn create_cluster(
    State(console): State<Console>,
    Path((org, project)): Path<(String, String)>,
    body: problem::JsonBody<cairn_model::CreateClusterRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let scope = scope(&console, &org, &project).await?;
    let cluster = console.services.create_cluster(&scope, &body.0).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": cluster.id }))))
}

async fn get_cluster(
    State(console): State<Console>,
    Path((org, project, cluster)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let scope = scope(&console, &org, &project).await?;
    let id = id("cluster", &cluster, ClusterId::parse)?;
    let cluster = console.services.get_cluster(&scope, &id).await?;
    Ok(Json(json!({ "cluster": cluster })))
}

async fn list_clusters(
    State(console): State<Console>,
    Path((org, project)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let scope = scope(&console, &org, &project).await?;
    let clusters: Vec<_> = console
        .services
        .list_clusters(&scope)
        .await?
        .into_iter()
        .filter(|c| c.status != cairn_model::ClusterStatus::Deleted)
        .collect();
    Ok(Json(json!({ "clusters": clusters })))
}

async fn delete_cluster(
    State(console): State<Console>,
    Path((org, project, cluster)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let scope = scope(&console, &org, &project).await?;
    let id = id("cluster", &cluster, ClusterId::parse)?;
    console.services.delete_cluster(&scope, &id).await?;
    Ok(Json(json!({})))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExpandDiskRequest {
    disk_size_gb: u32,
}

async fn expand_disk(
    State(console): State<Console>,
    Path((org, project, cluster)): Path<(String, String, String)>,
    body: problem::JsonBody<ExpandDiskRequest>,
) -> ApiResult<Json<Value>> {
    let scope = scope(&console, &org, &project).await?;
    let id = id("cluster", &cluster, ClusterId::parse)?;
    let request = body.0;
    console
        .services
        .expand_disk(&scope, &id, request.disk_size_gb)
        .await?;
    Ok(Json(json!({})))
}

#[cfg(test)]
mod tests;
