//! The create-backup dialog: step 1 is the backup's label with a live preview (the same
//! `model` code the server renders it with) and the legend of placeholders; step 2 makes it a
//! schedule. Every button works without JavaScript too: the dialog has its own addresses.

use crate::components::form::{INPUT, LINK, PRIMARY, SECONDARY};
use crate::components::{
    now, url_encode, with_project, Failure, Field, FormError, NextRuns, ProjectField,
};
use crate::error::ConsoleError;
use crate::server_fns::JobForm;
use cairn_model::label::{placeholders, LabelContext, LabelTemplate};
use cairn_model::{jobs::DEFAULT_MAX_BACKUP_COUNT, Cluster};
use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DialogStep {
    Label,
    Schedule,
}

/// The dialog: an island, the only part of the clusters page that runs in the browser. Its
/// data comes from the server with the page; its forms post natively (a plain form works the
/// same), and a failed post comes back with its error, passed in here.
#[island]
pub fn BackupDialog(
    cluster: Cluster,
    index: u64,
    step: DialogStep,
    label: String,
    /// Where Cancel (and Escape) go.
    close_href: String,
    /// The project the page's address names (an island has no address to read on its own).
    project: Option<String>,
    /// Why the last one-off backup request failed, if it did.
    backup_error: Option<ConsoleError>,
    /// Why the last schedule request failed, if it did.
    job_error: Option<ConsoleError>,
) -> impl IntoView {
    let leave = close_href.clone();
    let dialog = NodeRef::<leptos::html::Div>::new();
    let on_keydown = move |ev: KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            let _ = window().location().set_href(&leave);
        }
        // Tab stays inside the dialog: from its last control to its first, and back.
        "Tab" => {
            if let Some(dialog) = dialog.get() {
                keep_focus_inside(&dialog, &ev);
            }
        }
        _ => {}
    };
    // A failed schedule comes back with its error: show the step it belongs to.
    let step = RwSignal::new(if job_error.is_some() {
        DialogStep::Schedule
    } else {
        step
    });
    let label = RwSignal::new(label);
    // The preview's clock ticks in the browser, so "{datetime}" shows the minute it will be.
    let clock = RwSignal::new(now());
    Effect::new(move |_| {
        let handle = StoredValue::new(None::<leptos::leptos_dom::helpers::IntervalHandle>);
        let tick = move || {
            // A dialog left behind by an in-page navigation stops its clock.
            if dialog.get_untracked().is_some_and(|d| !d.is_connected()) {
                if let Some(handle) = handle.get_value() {
                    handle.clear();
                }
                return;
            }
            clock.set(now());
        };
        handle.set_value(set_interval_with_handle(tick, Duration::from_secs(1)).ok());
        on_cleanup(move || {
            if let Some(handle) = handle.try_get_value().flatten() {
                handle.clear();
            }
        });
    });
    let cluster = StoredValue::new(cluster);
    let preview = Memo::new(move |_| {
        let template = LabelTemplate::parse(&label.get()).map_err(|e| e.to_string())?;
        Ok::<_, String>(cluster.with_value(|c| {
            template.render(&LabelContext {
                index,
                cluster_description: &c.description,
                cluster_id: c.id.as_str(),
                cluster_provider: &c.provider,
                time: clock.get(),
            })
        }))
    });
    let name = cluster.with_value(|c| c.description.clone());
    let (title_label, title_schedule) = (
        format!("Back up {name}"),
        format!("Schedule backups of {name}"),
    );
    view! {
        <div class="fixed inset-0 z-40 overflow-y-auto bg-slate-900/50 p-4 md:p-10" on:keydown=on_keydown>
            <div
                node_ref=dialog
                role="dialog"
                aria-modal="true"
                aria-labelledby="backup-dialog-title"
                class="mx-auto w-full max-w-2xl rounded-xl bg-white p-6 shadow-2xl"
            >
                <h2 id="backup-dialog-title" class="text-lg font-semibold text-slate-900">
                    {move || match step.get() {
                        DialogStep::Label => title_label.clone(),
                        DialogStep::Schedule => title_schedule.clone(),
                    }}
                </h2>
                <p class="mt-1 mb-4 text-sm text-slate-600">
                    {move || match step.get() {
                        DialogStep::Label => "Step 1 of 2: the backup's label. Make one backup now, or go on to a schedule.",
                        DialogStep::Schedule => "Step 2 of 2: when to back up, and how many backups to keep. Schedules are in UTC.",
                    }}
                </p>
                <div class:hidden=move || step.get() != DialogStep::Label>
                    <LabelStep cluster=cluster.get_value() label step preview close_href project=project.clone() error=backup_error />
                </div>
                <div class:hidden=move || step.get() != DialogStep::Schedule>
                    <ScheduleStep cluster=cluster.get_value() label step preview project error=job_error />
                </div>
            </div>
        </div>
    }
}

#[component]
fn LabelStep(
    cluster: Cluster,
    label: RwSignal<String>,
    step: RwSignal<DialogStep>,
    preview: Memo<Result<String, String>>,
    close_href: String,
    project: Option<String>,
    error: Option<ConsoleError>,
) -> impl IntoView {
    let failure = Failure::new(move || error.clone()).showing(&["description"]);
    let cluster_id = cluster.id.to_string();
    // A GET form's fields are its query: the hidden project field carries the project on.
    let schedule_href = format!("/clusters/{cluster_id}/schedule");
    // The cursor starts in the label field.
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            let _ = input.focus();
        }
    });
    let id_for_address = cluster.id.to_string();
    let project_for_address = project.clone();
    let to_schedule = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        step.set(DialogStep::Schedule);
        show_step_in_address(
            &id_for_address,
            DialogStep::Schedule,
            &label.get_untracked(),
            project_for_address.as_deref(),
        );
    };
    let label_error = Signal::derive(move || {
        failure
            .field("description")
            .get()
            .or_else(|| preview.get().err())
    });
    view! {
        // Without JavaScript: "Create one-off backup" posts to the server function, "Create
        // backup schedule" opens step 2 at its own address with the label in the query.
        <form method="get" action=schedule_href>
            <FormError message=Signal::derive(move || {
                failure.field("description").get().is_none().then(|| failure.message().get()).flatten()
            }) />
            <input type="hidden" name="cluster_id" value=cluster_id />
            <ProjectField project=project.clone() />
            <Field id="backup-label" label="Backup label" error=label_error>
                <input
                    id="backup-label"
                    name="description"
                    class=INPUT
                    node_ref=input
                    autofocus
                    autocomplete="off"
                    aria-describedby="backup-label-error backup-label-preview"
                    aria-invalid=move || label_error.get().is_some().to_string()
                    value=label.get_untracked()
                    on:input=move |ev| label.set(event_target_value(&ev))
                    on:keydown=move |ev| {
                        // Enter would press the form's first button: a one-off backup made by
                        // accident. The buttons say what they do; let them be pressed.
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                        }
                    }
                />
            </Field>
            <div class="mb-4 rounded-md bg-slate-50 px-3 py-2 text-sm">
                <span class="text-slate-500">"Preview: "</span>
                <span id="backup-label-preview" data-testid="label-preview" class="font-medium text-slate-900">
                    {move || preview.get().unwrap_or_default()}
                </span>
            </div>
            <details class="mb-5 text-sm">
                <summary class="cursor-pointer font-medium text-slate-700">"Variables you can use"</summary>
                <ul class="mt-2 grid grid-cols-1 gap-x-4 gap-y-1 font-mono text-xs text-slate-700 sm:grid-cols-2" data-testid="label-legend">
                    {placeholders()
                        .into_iter()
                        .map(|(placeholder, default)| {
                            view! {
                                <li>
                                    <button
                                        type="button"
                                        class="rounded px-1 hover:bg-sky-50 focus-visible:outline-2 focus-visible:outline-sky-600"
                                        title="Add to the label"
                                        on:click={
                                            let placeholder = placeholder.clone();
                                            move |_| {
                                                let value = format!("{}{placeholder}", label.get_untracked());
                                                if let Some(input) = input.get_untracked() {
                                                    input.set_value(&value);
                                                }
                                                label.set(value);
                                            }
                                        }
                                    >
                                        {placeholder.clone()}
                                    </button>
                                    {default.then_some(" (default format)")}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </details>
            <div class="flex flex-wrap justify-end gap-2">
                <a href=close_href class=SECONDARY>"Cancel"</a>
                <button type="submit" class=SECONDARY formaction="/api/backups/create" formmethod="post">
                    "Create one-off backup"
                </button>
                <button type="submit" class=PRIMARY on:click=to_schedule>
                    "Create backup schedule ›"
                </button>
            </div>
        </form>
    }
}

#[component]
fn ScheduleStep(
    cluster: Cluster,
    label: RwSignal<String>,
    step: RwSignal<DialogStep>,
    preview: Memo<Result<String, String>>,
    project: Option<String>,
    error: Option<ConsoleError>,
) -> impl IntoView {
    let failure = Failure::new(move || error.clone()).showing(&[
        "description",
        "schedule",
        "data.description",
        "data.maxBackupCount",
    ]);
    let form = RwSignal::new(JobForm {
        cluster_id: cluster.id.to_string(),
        label: label.get_untracked(),
        description: format!("{} backups", cluster.description),
        every: "1".into(),
        unit: "hours".into(),
        minute: "0".into(),
        cron: String::new(),
        keep: DEFAULT_MAX_BACKUP_COUNT.to_string(),
    });
    let runs = Memo::new(move |_| {
        form.with(|f| f.schedule())
            .map(|s| (s.describe(), s.upcoming(now(), 5)))
    });
    let id_for_back = cluster.id.to_string();
    let project_for_back = project.clone();
    let back_href = with_project(
        &format!(
            "/clusters/{}/backup?description={}",
            cluster.id,
            url_encode(&label.get_untracked())
        ),
        project.as_deref(),
    );
    let jobs_href = with_project("/jobs", project.as_deref());
    let set = move |apply: fn(&mut JobForm, String)| {
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            form.update(|f| apply(f, value));
        }
    };
    let schedule_error =
        Signal::derive(move || failure.field("schedule").get().or_else(|| runs.get().err()));
    view! {
        <form method="post" action="/api/jobs/create">
            <ProjectField project=project.clone() />
            <FormError message=failure.message() />
            <input type="hidden" name="form[cluster_id]" value=cluster.id.to_string() />
            <input type="hidden" name="form[label]" value=move || label.get() />
            <p class="mb-4 text-sm text-slate-700">
                "Backups will be labelled like "
                <span class="font-medium" data-testid="schedule-label-preview">{move || preview.get().unwrap_or_default()}</span>
                <span class="text-red-700">{move || failure.field("data.description").get()}</span>
            </p>
            <Field id="job-description" label="Description" error=failure.field("description")>
                <input
                    id="job-description"
                    name="form[description]"
                    class=INPUT
                    aria-describedby="job-description-error"
                    value=form.with_untracked(|f| f.description.clone())
                    on:input=set(|f, v| f.description = v)
                />
            </Field>
            <fieldset class="mb-2">
                <legend class="block text-sm font-medium text-slate-800">"Backup every"</legend>
                <div class="mt-1 flex flex-wrap items-center gap-2 text-sm">
                    <label class="sr-only" for="job-every">"Number of hours or days"</label>
                    <input id="job-every" name="form[every]" type="number" min="1" max="23" class="w-20 rounded-md border border-slate-300 px-2 py-1.5"
                        value=form.with_untracked(|f| f.every.clone()) on:input=set(|f, v| f.every = v) />
                    <label class="sr-only" for="job-unit">"Unit"</label>
                    <select id="job-unit" name="form[unit]" class="rounded-md border border-slate-300 px-2 py-1.5" on:change=set(|f, v| f.unit = v)>
                        <option value="hours" selected=move || form.with(|f| f.unit == "hours")>"hours"</option>
                        <option value="days" selected=move || form.with(|f| f.unit == "days")>"days"</option>
                    </select>
                    <span>"at"</span>
                    <label class="sr-only" for="job-minute">"Minute past the hour"</label>
                    <input id="job-minute" name="form[minute]" type="number" min="0" max="59" class="w-20 rounded-md border border-slate-300 px-2 py-1.5"
                        value=form.with_untracked(|f| f.minute.clone()) on:input=set(|f, v| f.minute = v) />
                    <span>"minutes past (UTC)"</span>
                </div>
            </fieldset>
            <Field
                id="job-cron"
                label="Or a cron schedule (UTC)"
                hint="Optional; wins over the fields above. minute hour * * day-of-week, e.g. 0 12 * * 1 (Mondays at 12:00)."
                error=schedule_error
            >
                <input
                    id="job-cron"
                    name="form[cron]"
                    class=INPUT
                    placeholder="0 12 * * 1"
                    aria-describedby="job-cron-error"
                    value=form.with_untracked(|f| f.cron.clone())
                    on:input=set(|f, v| f.cron = v)
                />
            </Field>
            <Field id="job-keep" label="Number of backups to keep before pruning" error=failure.field("data.maxBackupCount")>
                <input
                    id="job-keep"
                    name="form[keep]"
                    type="number"
                    min="1"
                    class=INPUT
                    aria-describedby="job-keep-error"
                    value=form.with_untracked(|f| f.keep.clone())
                    on:input=set(|f, v| f.keep = v)
                />
            </Field>
            <NextRuns runs=Signal::derive(move || runs.get().ok()) testid="next-runs" />
            <div class="flex flex-wrap justify-end gap-2">
                <a
                    href=back_href
                    class=SECONDARY
                    on:click=move |ev| {
                        ev.prevent_default();
                        step.set(DialogStep::Label);
                        show_step_in_address(&id_for_back, DialogStep::Label, &label.get_untracked(), project_for_back.as_deref());
                    }
                >
                    "‹ Back"
                </a>
                <button type="submit" class=PRIMARY>"Create backup schedule"</button>
            </div>
            <p class="mt-3 text-xs text-slate-500">
                "A run on a busy cluster fails and says who holds it; missed runs are not caught up. See "
                <a href=jobs_href class=LINK>"Jobs"</a> "."
            </p>
        </form>
    }
}

#[cfg(not(feature = "hydrate"))]
fn keep_focus_inside(_dialog: &leptos::web_sys::HtmlDivElement, _ev: &KeyboardEvent) {}

/// Wraps Tab and Shift+Tab around the dialog's visible controls.
#[cfg(feature = "hydrate")]
fn keep_focus_inside(dialog: &leptos::web_sys::HtmlDivElement, ev: &KeyboardEvent) {
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys;
    let Ok(list) = dialog.query_selector_all(
        "a[href], button:not([disabled]), input:not([type=hidden]), select, textarea, summary",
    ) else {
        return;
    };
    let visible: Vec<web_sys::HtmlElement> = (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
        .filter(|e| e.offset_parent().is_some())
        .collect();
    let (Some(first), Some(last)) = (visible.first(), visible.last()) else {
        return;
    };
    let active = document().active_element();
    let at = |e: &web_sys::HtmlElement| active.as_ref() == Some(e.unchecked_ref());
    if ev.shift_key() && at(first) {
        ev.prevent_default();
        let _ = last.focus();
    } else if !ev.shift_key() && at(last) {
        ev.prevent_default();
        let _ = first.focus();
    }
}

/// Puts the dialog's step in the address (`/clusters/:id/backup` or `…/schedule`, with the
/// label), so that a failed post, which returns to the page it came from, reopens this step.
fn show_step_in_address(cluster_id: &str, step: DialogStep, label: &str, project: Option<&str>) {
    let page = match step {
        DialogStep::Label => "backup",
        DialogStep::Schedule => "schedule",
    };
    let url = with_project(
        &format!(
            "/clusters/{cluster_id}/{page}?description={}",
            url_encode(label)
        ),
        project,
    );
    if let Ok(history) = window().history() {
        let _ =
            history.replace_state_with_url(&leptos::wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}
