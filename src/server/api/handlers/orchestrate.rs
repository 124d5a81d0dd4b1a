//! orchestrate/v1: jobs and their history.

use super::{by_id, created, id, listed, Answer, Created};
use crate::server::api::problem::{ApiError, ApiResult, JsonBody};
use crate::server::api::{InProject, Operates, PathId, Reads};
use axum::extract::Query;
use axum::Json;
use cairn_core::lifecycle::JobEvent;
use cairn_model::{CreateJobRequest, EditJobRequest, JobId, JobType};
use serde::Deserialize;
use serde_json::json;

/// Kurrent's create-job body: the request plus `"type": "ScheduledBackup"`.
#[derive(Debug, Deserialize)]
pub struct CreateJobBody {
    #[serde(rename = "type", default)]
    job_type: Option<String>,
    #[serde(flatten)]
    request: CreateJobRequest,
}

pub async fn create_job(
    InProject { caller, scope, .. }: InProject<Operates>,
    body: JsonBody<CreateJobBody>,
) -> Created {
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
    InProject { caller, scope, .. }: InProject<Reads>,
    query: Result<Query<JobsQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer {
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
    let jobs = caller.services().list_jobs_of_type(&scope, wanted).await?;
    Ok(Json(json!({ "jobs": jobs })))
}

by_id!(get_job: Reads, JobId => get_job() => "job");

/// Changes a job's description, schedule, label template or keep count (Cairn's own: Kurrent
/// Cloud's jobs are made again instead); answers the job.
pub async fn update_job(
    InProject { caller, scope, .. }: InProject<Operates>,
    PathId(id): PathId<JobId>,
    body: JsonBody<EditJobRequest>,
) -> Answer {
    let job = caller
        .services()
        .edit_job(&scope, &id, body.read()?)
        .await?;
    super::wrapped("job", job)
}

by_id!(delete_job: Operates, JobId => change_job(JobEvent::Delete) => {});

pub async fn run_job(
    InProject { caller, scope, .. }: InProject<Operates>,
    PathId(id): PathId<JobId>,
) -> Answer {
    let item = caller.services().run_job_now(&scope, &id).await?;
    Ok(Json(json!({ "historyId": item.id })))
}

by_id!(pause_job: Operates, JobId => change_job(JobEvent::Pause) => "job");

by_id!(resume_job: Operates, JobId => change_job(JobEvent::Resume) => "job");

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryQuery {
    #[serde(default)]
    job_id: Option<String>,
}

pub async fn list_history(
    InProject { caller, scope, .. }: InProject<Reads>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::response::Response> {
    let query = query.map_err(|e| ApiError::invalid("query", e.body_text()))?;
    let job = match query.0.job_id.as_deref().filter(|j| !j.is_empty()) {
        Some(job) => Some(id("job", job, JobId::parse)?),
        None => None,
    };
    let items = caller.services().list_history(&scope, job.as_ref()).await?;
    Ok(listed("items", &items))
}
