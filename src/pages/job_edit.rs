//! A job's settings as a form on its page: description, schedule, and for a scheduled backup
//! its label template and how many backups it keeps. Every broken rule comes back at once,
//! next to its field; the schedule's next runs follow what is typed.

use crate::components::form::{INPUT, SECONDARY};
use crate::components::{now, Failure, Field, FormError, NextRuns, ProjectField};
use crate::server_fns::EditJob;
use cairn_model::schedule::Schedule;
use cairn_model::{Job, JobStatus, JobType};
use leptos::prelude::*;

/// The fields the form shows errors beside (as the core names them).
const FIELDS: &[&str] = &[
    "description",
    "schedule",
    "data.description",
    "data.maxBackupCount",
];

#[component]
pub fn JobSettings(job: Job) -> impl IntoView {
    if job.status == JobStatus::Deleted {
        return ().into_any();
    }
    let edit = ServerAction::<EditJob>::new();
    let failure = Failure::of(edit).showing(FIELDS);
    let backups = (job.job_type == JobType::ScheduledBackup).then(|| {
        let (label, keep) = (job.data.description.clone(), job.data.max_backup_count);
        view! {
            <Field id="edit-label" label="Backup label" hint="A template: {cluster}, {index}, {datetime:…} and more, as in the backup dialog." error=failure.field("data.description")>
                <input id="edit-label" name="label" required class=INPUT value=label
                    aria-describedby="edit-label-error"
                    aria-invalid=move || failure.invalid("data.description").get().to_string() />
            </Field>
            <Field id="edit-keep" label="Backups to keep" hint="Older ones are pruned after each successful run." error=failure.field("data.maxBackupCount")>
                <input id="edit-keep" name="keep" type="number" min="1" max="1000" required class=INPUT value=keep
                    aria-describedby="edit-keep-error"
                    aria-invalid=move || failure.invalid("data.maxBackupCount").get().to_string() />
            </Field>
        }
    });
    view! {
        <section class="mt-6 max-w-2xl rounded-lg border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="settings-heading" data-testid="job-settings">
            <h2 id="settings-heading" class="mb-1 text-base font-semibold">"Settings"</h2>
            <p class="mb-3 text-sm text-slate-600">
                "The cluster stays the same. A new schedule counts from when it is saved: it fires no run it would have missed."
            </p>
            <FormError message=failure.message() />
            <ActionForm action=edit>
                <ProjectField />
                <input type="hidden" name="id" value=job.id.to_string() />
                <Field id="edit-description" label="Description" error=failure.field("description")>
                    <input id="edit-description" name="description" required maxlength="128" class=INPUT
                        value=job.description.clone() aria-describedby="edit-description-error"
                        aria-invalid=move || failure.invalid("description").get().to_string() />
                </Field>
                <ScheduleInput schedule=job.schedule.clone() error=failure.field("schedule").get_untracked() />
                {backups}
                <button type="submit" class=SECONDARY>"Save settings"</button>
            </ActionForm>
        </section>
    }
    .into_any()
}

/// The schedule field and its next five runs, computed as it is typed by the model's own
/// schedule code (what the server stores with). Without JavaScript it shows the saved
/// schedule's runs; a save that failed shows why beside the field.
#[island]
pub fn ScheduleInput(schedule: String, error: Option<String>) -> impl IntoView {
    let typed = RwSignal::new(schedule.clone());
    let runs = Memo::new(move |_| {
        typed.with(|text| {
            Schedule::parse(text)
                .map(|s| (s.describe(), s.upcoming(now(), 5)))
                .map_err(|e| e.to_string())
        })
    });
    let shown_error = Signal::derive(move || match runs.get() {
        // The typed schedule's own fault first; else why the last save failed, while the
        // field still holds what was saved.
        Err(fault) => Some(fault),
        Ok(_) if typed.with(|t| *t == schedule) => error.clone(),
        Ok(_) => None,
    });
    view! {
        <Field id="edit-schedule" label="Schedule (cron, UTC)" hint="Five fields: minute, hour, day of month, month, day of week. 0 */6 * * * is every 6 hours." error=shown_error>
            <input id="edit-schedule" name="schedule" required class=INPUT value=typed.get_untracked()
                aria-describedby="edit-schedule-error"
                aria-invalid=move || shown_error.get().is_some().to_string()
                on:input=move |ev| typed.set(event_target_value(&ev)) />
        </Field>
        <NextRuns runs=Signal::derive(move || runs.get().ok()) testid="edit-next-runs" />
    }
}
