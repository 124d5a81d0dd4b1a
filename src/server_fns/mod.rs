//! Server functions: each takes the services from context, calls one use case, converts.
//! On the server they run the body; in the browser they are HTTP calls to `/api/...`. Those
//! that create or delete also redirect, so the same call works from a plain HTML form.

mod account;
mod audit;
mod backups;
mod clusters;
mod integrations;
mod jobs;
mod networks;

pub use account::{
    account_facts, change_password, create_api_token, end_other_sessions, list_api_tokens,
    revoke_api_token, take_new_token, who_am_i, AccountView, ChangePassword, CreateApiToken,
    EndOtherSessions, ListedToken, NewToken, RevokeApiToken, SignedIn,
};
pub use audit::list_audit;
pub use backups::{
    backup_job_groups, backup_storage, cancel_backup, create_backup, delete_backup, get_backup,
    get_restore_choices, is_verifying, page_backups, verify_backup, CancelBackup, CreateBackup,
    DeleteBackup, VerifyBackup,
};
pub use clusters::{
    change_cluster, create_cluster, delete_cluster, get_cluster, get_cluster_overview,
    list_clusters, ChangeCluster, ClusterEdit, CreateCluster, DeleteCluster,
};
pub use integrations::{
    create_integration, delete_integration, get_integration, list_integrations, page_events,
    test_integration, CreateIntegration, DeleteIntegration, IntegrationForm, TestIntegration,
};
pub use jobs::{
    change_job, create_job, create_restore_test, edit_job, get_job_detail, page_job_history,
    page_jobs, run_job, ChangeJob, CreateJob, CreateRestoreTest, EditJob, RunJob,
};
pub use networks::list_networks;

use crate::error::ConsoleError;
use cairn_model::schedule::Schedule;
use cairn_model::{CreateJobRequest, ScheduledBackupData};
use std::collections::BTreeMap;

/// [`crate::server::authorized`], then the `id` the call names (read by [`parse_id`]). One
/// that is no id is [`judged`] by `need`, what the use case asks of the caller's role.
#[cfg(feature = "ssr")]
async fn authorized_id<T, E: std::fmt::Display>(
    need: cairn_model::Permission,
    id: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<(crate::server::Console, cairn_core::Scope, T), ConsoleError> {
    let (console, scope) = crate::server::authorized().await?;
    let id = parse_id("id", id, parse).map_err(|fault| judged(&scope, need, fault))?;
    Ok((console, scope, id))
}

/// A fault in what the caller sent (an id, a number, a form's field), found before the use
/// case runs: told to a caller whose role allows `need` (what the use case will ask), while
/// any other hears why they may not, as the use case would say, and nothing of their input.
/// With input it can read, the use case refuses them itself, and records it.
#[cfg(feature = "ssr")]
fn judged(
    scope: &cairn_core::Scope,
    need: cairn_model::Permission,
    fault: ConsoleError,
) -> ConsoleError {
    match scope.require(need) {
        Err(refused) => refused.into(),
        Ok(()) => fault,
    }
}

/// Sends a plain form on to `path` once it is done, with a notice, in the project the form
/// named (a restore into another project goes on to the cluster there).
#[cfg(feature = "ssr")]
fn go_with_notice(path: &str, notice: &str) {
    let project = crate::server::project::named_for_links();
    let path = crate::components::with_project(path, project.as_deref());
    leptos_axum::redirect(&crate::components::with_notice(&path, notice));
}

/// Sends a plain form back to the page it came from (or `fallback`), with a notice (a server
/// function left alone would go back without one).
#[cfg(feature = "ssr")]
async fn back_with_notice(fallback: &str, notice: &str) {
    let referer = leptos_axum::extract::<axum::http::HeaderMap>()
        .await
        .ok()
        .and_then(|headers| {
            headers
                .get(axum::http::header::REFERER)
                .and_then(|r| r.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let back = back_path(&referer).unwrap_or_else(|| fallback.to_owned());
    go_with_notice(&back, notice);
}

/// The local path (and query, without old notices and errors) of a Referer; `None` when it is
/// not one of ours to send someone to (`//elsewhere` would leave the site).
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
fn back_path(referer: &str) -> Option<String> {
    let path = referer
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))?;
    if path.starts_with("//") || path.starts_with("/\\") {
        return None;
    }
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("notice=") && !p.starts_with("__"))
        .collect();
    Some(if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    })
}

/// An id from a form or URL, or an error naming the field.
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
fn parse_id<T, E: std::fmt::Display>(
    field: &str,
    text: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<T, ConsoleError> {
    parse(text.trim()).map_err(|error| ConsoleError::invalid(field, format!("'{text}': {error}")))
}

/// The create-schedule form as typed (every field text, so a bad number is a field error, not
/// a failed request; fields are posted as `form[every]` and so on). The browser checks it with
/// the same code before sending.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JobForm {
    pub cluster_id: String,
    pub label: String,
    pub description: String,
    pub every: String,
    pub unit: String,
    pub minute: String,
    pub cron: String,
    pub keep: String,
}

impl JobForm {
    /// The schedule the form says: the raw cron when given, else the builder's.
    pub fn schedule(&self) -> Result<Schedule, String> {
        if !self.cron.trim().is_empty() {
            return Schedule::parse(self.cron.trim()).map_err(|e| e.to_string());
        }
        let every: u32 = self
            .every
            .trim()
            .parse()
            .map_err(|_| format!("every '{}' is not a whole number", self.every))?;
        let minute: u32 = self
            .minute
            .trim()
            .parse()
            .map_err(|_| format!("minute '{}' is not a number from 0 to 59", self.minute))?;
        Schedule::every(every, self.unit.trim(), minute).map_err(|e| e.to_string())
    }

    /// The API request, or every field error at once (keyed as the API keys them).
    pub fn request(&self) -> Result<CreateJobRequest, ConsoleError> {
        let mut fields = BTreeMap::new();
        let cluster_id = cairn_model::ClusterId::parse(self.cluster_id.trim());
        if let Err(error) = &cluster_id {
            fields.insert("data.clusterId".to_owned(), error.to_string());
        }
        let schedule = self.schedule();
        if let Err(error) = &schedule {
            fields.insert("schedule".to_owned(), error.clone());
        }
        let keep = self.keep.trim().parse::<u32>();
        if keep.is_err() {
            fields.insert(
                "data.maxBackupCount".to_owned(),
                format!("'{}' is not a whole number", self.keep),
            );
        }
        let (Ok(cluster_id), Ok(schedule), Ok(keep)) = (cluster_id, schedule, keep) else {
            return Err(ConsoleError::fields(fields));
        };
        let request = CreateJobRequest {
            description: self.description.clone(),
            schedule: schedule.to_string(),
            data: ScheduledBackupData {
                cluster_id,
                description: self.label.clone(),
                max_backup_count: keep,
            },
        };
        let errors = cairn_model::check_job_request(&request);
        if errors.is_empty() {
            Ok(request)
        } else {
            Err(ConsoleError::fields(errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> JobForm {
        JobForm {
            cluster_id: "c1eut65o0aeu6ojco7a0".into(),
            label: "{cluster} - {datetime:utc}".into(),
            description: "hourly".into(),
            every: "6".into(),
            unit: "hours".into(),
            minute: "30".into(),
            cron: String::new(),
            keep: "10".into(),
        }
    }

    #[test]
    fn a_referer_sends_back_to_its_own_path_and_never_off_the_site() {
        assert_eq!(
            back_path("http://127.0.0.1:3000/jobs/x?tab=history&notice=old&__err=e").as_deref(),
            Some("/jobs/x?tab=history")
        );
        assert_eq!(back_path("https://evil.example//evil.example/x"), None);
        assert_eq!(back_path("https://evil.example/\\\\evil.example"), None);
        assert_eq!(back_path("not a url"), None);
    }

    #[test]
    fn the_builder_fields_become_the_cron_the_api_takes() {
        assert_eq!(form().request().unwrap().schedule, "30 */6 * * *");
        let raw = JobForm {
            cron: "0 12 * * 1".into(),
            ..form()
        };
        assert_eq!(raw.request().unwrap().schedule, "0 12 * * 1");
    }

    #[test]
    fn every_wrong_field_is_named_at_once() {
        let bad = JobForm {
            description: " ".into(),
            every: "x".into(),
            keep: "many".into(),
            ..form()
        };
        let error = bad.request().unwrap_err();
        assert!(error.fields.contains_key("schedule"), "{error:?}");
        assert!(
            error.fields.contains_key("data.maxBackupCount"),
            "{error:?}"
        );
        let bad = JobForm {
            description: " ".into(),
            label: "{nope}".into(),
            ..form()
        };
        let error = bad.request().unwrap_err();
        assert_eq!(
            error.fields.keys().collect::<Vec<_>>(),
            ["data.description", "description"]
        );
    }
}
