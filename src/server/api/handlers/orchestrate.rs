//! orchestrate/v1: jobs and their history.

use super::{by_id, created, id, listed, Answer, Created};
use crate::server::api::problem::{ApiError, ApiResult, JsonBody};
use crate::server::api::{InProject, Operates, PathId, Reads};
use axum::extract::Query;
use axum::response::IntoResponse;
use axum::Json;
use cairn_core::lifecycle::JobEvent;
use cairn_model::{CreateJobRequest, EditJobRequest, JobId, JobType, PageQuery};
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

pub async fn create_job(project: InProject<Operates>, body: JsonBody<CreateJobBody>) -> Created {
    let InProject { caller, scope, .. } = &project;
    let body = body.read()?;
    let job = match body.job_type.as_deref().unwrap_or("ScheduledBackup") {
        "ScheduledBackup" => caller.services().create_job(scope, &body.request).await?,
        "ScheduledRestoreTest" => {
            let request = cairn_core::restore_tests::CreateRestoreTestRequest {
                description: body.request.description.clone(),
                schedule: body.request.schedule.clone(),
                cluster_id: body.request.data.cluster_id.clone(),
            };
            caller
                .services()
                .create_restore_test(scope, &request)
                .await?
        }
        kind => {
            return Err(project.fault(ApiError::invalid(
                "type",
                format!("unknown job type '{kind}': use ScheduledBackup or ScheduledRestoreTest"),
            )))
        }
    };
    created(job.id)
}

#[derive(Debug, Deserialize)]
pub struct JobsQuery {
    #[serde(rename = "type", default)]
    job_type: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

/// Scheduled backups only, unless asked: strict clients (`esc`) know no other job type. With
/// any paging parameter, one page of them (and `nextPageToken`).
pub async fn list_jobs(
    InProject { caller, scope, .. }: InProject<Reads>,
    query: Result<Query<JobsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::response::Response> {
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
    if query.0.page.is_paged() {
        let request = cairn_core::paging::page_request(&query.0.page)?;
        let page = caller
            .services()
            .page_jobs(&scope, wanted, &request)
            .await?;
        return Ok(super::paged(
            "jobs",
            &page.items,
            page.next_token.as_deref(),
        ));
    }
    let jobs = caller.services().list_jobs_of_type(&scope, wanted).await?;
    Ok(Json(json!({ "jobs": jobs })).into_response())
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

/// The latest runs (of one job, with `jobId`), as Kurrent Cloud's clients read them; with
/// any other paging parameter, one page of them (and `nextPageToken`).
pub async fn list_history(
    InProject { caller, scope, .. }: InProject<Reads>,
    query: super::PageParams,
) -> ApiResult<axum::response::Response> {
    let query = super::page_query(query)?;
    // `jobId` alone is what strict clients send: their answer stays the whole list.
    let asks_for_a_page = PageQuery {
        job_id: None,
        ..query.clone()
    }
    .is_paged();
    if asks_for_a_page {
        let request = cairn_core::paging::page_request(&query)?;
        let page = caller.services().page_history(&scope, &request).await?;
        return Ok(super::paged(
            "items",
            &page.items,
            page.next_token.as_deref(),
        ));
    }
    let job = match query
        .job_id
        .as_deref()
        .map(str::trim)
        .filter(|j| !j.is_empty())
    {
        Some(job) => Some(id("job", job, JobId::parse)?),
        None => None,
    };
    let items = caller.services().list_history(&scope, job.as_ref()).await?;
    Ok(listed("items", &items))
}
