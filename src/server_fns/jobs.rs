use crate::error::ConsoleError;
#[cfg(feature = "ssr")]
use cairn_model::{ClusterId, JobId, Permission};
use cairn_model::{HistoryItem, Job, JobDetail, JobOverview, Page, PageQuery};
use leptos::prelude::*;

/// A page of jobs with their cluster, next run and last run, as the address asks.
#[server(endpoint = "jobs/page")]
pub async fn page_jobs(query: PageQuery) -> Result<Page<JobOverview>, ConsoleError> {
    let (console, scope) = crate::server::authorized().await?;
    let request = cairn_core::paging::page_request(&query)?;
    Ok(console
        .services
        .page_job_overviews(&scope, &request)
        .await?)
}

/// A page of one job's runs, as the address asks.
#[server(endpoint = "jobs/history")]
pub async fn page_job_history(
    id: String,
    query: PageQuery,
) -> Result<Page<HistoryItem>, ConsoleError> {
    let (console, scope, id) = super::authorized_id(Permission::Read, &id, JobId::parse).await?;
    let query = PageQuery {
        job_id: Some(id.to_string()),
        ..query
    };
    let request = cairn_core::paging::page_request(&query)?;
    Ok(console.services.page_history(&scope, &request).await?)
}

/// A job with its backups and runs.
#[server(endpoint = "jobs/detail")]
pub async fn get_job_detail(id: String) -> Result<JobDetail, ConsoleError> {
    let (console, scope, id) = super::authorized_id(Permission::Read, &id, JobId::parse).await?;
    Ok(console.services.job_detail(&scope, &id).await?)
}

/// Creates a scheduled backup job from the dialog's second step: the schedule is `cron` when
/// given, else "every `every` `unit` at `minute` past". Every wrong field is named at once.
#[server(endpoint = "jobs/create")]
pub async fn create_job(form: super::JobForm) -> Result<Job, ConsoleError> {
    let (console, scope) = crate::server::authorized().await?;
    let request = form
        .request()
        .map_err(|fault| super::judged(&scope, Permission::Operate, fault))?;
    let job = console.services.create_job(&scope, &request).await?;
    super::go_with_notice(
        &format!("/jobs/{}", job.id),
        &format!("Schedule “{}” created.", job.description),
    );
    Ok(job)
}

/// Schedules restore tests of a cluster's backups: each run restores the newest available one
/// into a temporary cluster and checks it holds what the backup recorded.
#[server(endpoint = "jobs/create-restore-test")]
pub async fn create_restore_test(
    description: String,
    cluster_id: String,
    schedule: String,
) -> Result<Job, ConsoleError> {
    let (console, scope) = crate::server::authorized().await?;
    let cluster_id = super::parse_id("clusterId", &cluster_id, ClusterId::parse)
        .map_err(|fault| super::judged(&scope, Permission::Operate, fault))?;
    let request = cairn_core::restore_tests::CreateRestoreTestRequest {
        description,
        schedule,
        cluster_id,
    };
    let job = console
        .services
        .create_restore_test(&scope, &request)
        .await?;
    super::go_with_notice(
        &format!("/jobs/{}", job.id),
        &format!("Restore test “{}” scheduled.", job.description),
    );
    Ok(job)
}

/// Runs a job now (its history shows the run).
#[server(endpoint = "jobs/run")]
pub async fn run_job(id: String) -> Result<HistoryItem, ConsoleError> {
    let (console, scope, id) = super::authorized_id(Permission::Operate, &id, JobId::parse).await?;
    let run = console.services.run_job_now(&scope, &id).await?;
    super::back_with_notice(
        &format!("/jobs/{}?tab=history", run.job_id),
        "Run started: see its history.",
    )
    .await;
    Ok(run)
}

/// `pause`, `resume` or `delete` (a deleted job's backups stay).
#[server(endpoint = "jobs/change")]
pub async fn change_job(id: String, action: String) -> Result<Job, ConsoleError> {
    use cairn_core::lifecycle::JobEvent;
    let (console, scope, id) = super::authorized_id(Permission::Operate, &id, JobId::parse).await?;
    let event = match action.as_str() {
        "pause" => JobEvent::Pause,
        "resume" => JobEvent::Resume,
        "delete" => JobEvent::Delete,
        other => {
            let fault = ConsoleError::invalid(
                "action",
                format!("'{other}' is not one of: pause, resume, delete"),
            );
            return Err(super::judged(&scope, Permission::Operate, fault));
        }
    };
    let job = console.services.change_job(&scope, &id, event).await?;
    super::back_with_notice(
        &format!("/jobs/{}", job.id),
        &format!("Job “{}” is {}.", job.description, job.status.as_str()),
    )
    .await;
    Ok(job)
}

/// Saves a job's edit form: its description and schedule, and for a scheduled backup its label
/// template and keep count (absent for a restore test); back to the job with a notice.
#[server(endpoint = "jobs/edit")]
pub async fn edit_job(
    id: String,
    description: String,
    schedule: String,
    #[server(default)] label: Option<String>,
    #[server(default)] keep: Option<String>,
) -> Result<Job, ConsoleError> {
    let (console, scope, id) = super::authorized_id(Permission::Operate, &id, JobId::parse).await?;
    // An unreadable count is sent as 0, which the core refuses with every other broken rule;
    // its message then says what was typed.
    let keep = keep.as_deref().map(str::trim);
    let unreadable = keep
        .filter(|keep| keep.parse::<u32>().is_err())
        .map(|keep| format!("'{keep}' is not a whole number of backups"));
    let max_backup_count = keep.map(|keep| keep.parse::<u32>().unwrap_or(0));
    let edit = cairn_model::EditJobRequest {
        description: Some(description),
        schedule: Some(schedule.trim().to_owned()),
        data: (label.is_some() || max_backup_count.is_some()).then_some(cairn_model::EditJobData {
            description: label,
            max_backup_count,
        }),
    };
    let job = console
        .services
        .edit_job(&scope, &id, &edit)
        .await
        .map_err(|error| {
            let mut error = ConsoleError::from(error);
            // Only beside the core's own field errors: a refused caller hears only that.
            if error.kind == crate::error::ConsoleErrorKind::Invalid {
                if let Some(message) = unreadable {
                    error.fields.insert("data.maxBackupCount".into(), message);
                }
            }
            error
        })?;
    super::go_with_notice(
        &format!("/jobs/{}", job.id),
        &format!("Job “{}” is saved.", job.description),
    );
    Ok(job)
}
