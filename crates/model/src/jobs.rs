//! Creating a scheduled backup job: the request as the API takes it, and its checks.

use crate::entities::ScheduledBackupData;
use crate::label::LabelTemplate;
use crate::restore::FieldErrors;
use crate::schedule::Schedule;
use serde::{Deserialize, Serialize};

/// The console's default number of backups a job keeps.
pub const DEFAULT_MAX_BACKUP_COUNT: u32 = 10;
/// A label template's longest: the labels it renders are what lists show.
pub const MAX_LABEL_TEMPLATE_LEN: usize = 256;
/// More than this many kept backups per job is refused (it is a retention count, not a history).
pub const MAX_BACKUP_COUNT_LIMIT: u32 = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateJobRequest {
    pub description: String,
    pub schedule: String,
    pub data: ScheduledBackupData,
}

/// A change to a job: what is given changes; its cluster and type never do. The API's
/// `PUT …/jobs/{id}` body, and the console's edit form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditJobRequest {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub schedule: Option<String>,
    #[serde(default)]
    pub data: Option<EditJobData>,
}

/// The backups' side of [`EditJobRequest`]: the label template and how many to keep.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditJobData {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub max_backup_count: Option<u32>,
}

/// Every problem of the request at once, keyed by wire field (`data.description` for the
/// label template). The cluster's existence is checked by the core.
pub fn check_job_request(request: &CreateJobRequest) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if let Err(message) = crate::text::check_text(
        "description",
        &request.description,
        crate::text::MAX_DESCRIPTION_LEN,
    ) {
        errors.insert("description".into(), message);
    }
    if let Err(error) = Schedule::parse(&request.schedule) {
        errors.insert("schedule".into(), error.to_string());
    }
    if request.data.description.trim().is_empty() {
        errors.insert(
            "data.description".into(),
            "a label template for the backups is required".into(),
        );
    } else if request.data.description.chars().count() > MAX_LABEL_TEMPLATE_LEN {
        errors.insert(
            "data.description".into(),
            format!("a label template has at most {MAX_LABEL_TEMPLATE_LEN} characters"),
        );
    } else if let Err(error) = LabelTemplate::parse(&request.data.description) {
        errors.insert("data.description".into(), error.to_string());
    }
    let count = request.data.max_backup_count;
    if !(1..=MAX_BACKUP_COUNT_LIMIT).contains(&count) {
        errors.insert(
            "data.maxBackupCount".into(),
            format!("keep from 1 to {MAX_BACKUP_COUNT_LIMIT} backups, not {count}"),
        );
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ClusterId;

    fn request() -> CreateJobRequest {
        CreateJobRequest {
            description: "My Hourly Backup".into(),
            schedule: "0 */1 * * *".into(),
            data: ScheduledBackupData {
                cluster_id: ClusterId::parse("c1eut65o0aeu6ojco7a0").unwrap(),
                description: "{cluster} Hourly Backup {datetime:RFC3339}".into(),
                max_backup_count: 2,
            },
        }
    }

    #[test]
    fn the_documented_esc_job_is_valid() {
        assert!(check_job_request(&request()).is_empty());
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let mut bad = request();
        bad.description = " ".into();
        bad.schedule = "*/5 * * * *".into();
        bad.data.description = "{when}".into();
        bad.data.max_backup_count = 0;
        let errors = check_job_request(&bad);
        let fields: Vec<_> = errors.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "data.description",
                "data.maxBackupCount",
                "description",
                "schedule"
            ]
        );
        assert!(errors["schedule"].contains("more often than once an hour"));
    }
}
