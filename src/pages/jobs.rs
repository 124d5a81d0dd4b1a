//! Jobs: scheduled backups and restore tests. The list (type, schedule in words and raw, next
//! run, last run), a form to schedule restore tests, and a job's page with tabs Details /
//! Backups / History (tabs by address, so they work without JavaScript). Run now, Pause /
//! Resume and Delete on both.

use crate::components::form::{DANGER, INPUT, LINK, PRIMARY, SECONDARY};
use crate::components::{
    duration_words, in_project, page_query, BackupList, Confirm, DataTable, Detail, Failure,
    FilterForm, FormError, Loaded, Narrow, PageHeader, PageLinks, ProjectField, StatusBadge, Table,
    Time,
};
use crate::server_fns::{
    get_job_detail, list_clusters, page_job_history, page_jobs, ChangeJob, CreateRestoreTest,
    RunJob,
};
use cairn_model::schedule::Schedule;
use cairn_model::{
    HistoryItem, HistoryStatus, JobDetail, JobOverview, JobStatus, JobType, Page, PageQuery,
};

fn type_words(kind: JobType) -> &'static str {
    match kind {
        JobType::ScheduledBackup => "Backup",
        JobType::ScheduledRestoreTest => "Restore test",
    }
}
use crate::pages::job_edit::JobSettings;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

fn schedule_words(cron: &str) -> String {
    Schedule::parse(cron)
        .map(|s| s.describe())
        .unwrap_or_else(|_| cron.to_owned())
}

fn history_status(status: HistoryStatus) -> &'static str {
    match status {
        HistoryStatus::Started => "started",
        HistoryStatus::Succeeded => "succeeded",
        HistoryStatus::Failed => "failed",
    }
}

#[component]
pub fn JobsPage() -> impl IntoView {
    let run = ServerAction::<RunJob>::new();
    let change = ServerAction::<ChangeJob>::new();
    let params = use_query_map();
    let query = Memo::new(move |_| page_query(&params.read()));
    let jobs = Resource::new(
        move || (query.get(), run.version().get(), change.version().get()),
        |(query, _, _)| page_jobs(query),
    );
    let clusters = Resource::new(|| (), |_| list_clusters());
    let run_failure = Failure::of(run);
    let change_failure = Failure::of(change);
    let filtered = move || query.get_untracked().is_filtered();
    view! {
        <PageHeader
            title="Jobs"
            description="Scheduled backups, and restore tests that prove them. A backup run makes a backup of its cluster and prunes the job's oldest beyond the number it keeps; a restore test restores the newest backup into a temporary cluster and checks it. Schedules are in UTC."
        />
        <FormError message=run_failure.message() />
        <FormError message=change_failure.message() />
        <NewRestoreTest />
        <Loaded resource=clusters let:clusters>
            <FilterForm
                action="/jobs".to_owned()
                query=query.get_untracked()
                what="jobs"
                statuses=cairn_model::paging::JOB_STATUSES
                clusters=clusters.into_iter().map(|c| (c.id.to_string(), c.description)).collect()
            />
        </Loaded>
        <div data-live="jobs">
        <Loaded resource=jobs what="jobs" let:page>
            <DataTable
                headers=&["Description", "Type", "Job ID", "Schedule", "Status", "Source cluster", "Next run", "Last run"]
                actions=true
                narrow=Narrow { wide: "2 3 8", roomy: "4 6 7" }
                empty_title=if filtered() { "No jobs match" } else { "No scheduled backups yet" }
                empty_message=if filtered() { "No job meets every filter: change or clear them." } else { "Create one from a cluster's row on the Clusters page: Create backup, then Create backup schedule." }
                rows=page.items
                row=move |job| view! { <JobRow job run change /> }
            />
            <PageLinks base="/jobs".to_owned() query=query.get_untracked() next=page.next_token />
        </Loaded>
        </div>
    }
}

/// Restore tests are scheduled here (backups, from a cluster's row): what a run does, then the
/// form. A plain form: it works without JavaScript too.
#[component]
fn NewRestoreTest() -> impl IntoView {
    let create = ServerAction::<CreateRestoreTest>::new();
    let clusters = Resource::new(|| (), |_| list_clusters());
    let failure = Failure::of(create);
    view! {
        <details class="mb-4 rounded-lg border border-slate-200 bg-white p-3 text-sm shadow-sm" data-testid="new-restore-test">
            <summary class="cursor-pointer font-medium text-slate-900">"Schedule restore tests"</summary>
            <p class="mt-2 max-w-3xl text-slate-600">
                "Each run restores the cluster's newest available backup into a temporary single-node cluster, checks that it holds exactly the events the backup recorded, deletes the temporary cluster and records the result in the job's history. A failure raises a notification."
            </p>
            <FormError message=failure.message() />
            <ActionForm action=create>
                <ProjectField />
                <div class="mt-2 grid max-w-3xl gap-3 sm:grid-cols-3">
                    <label class="block">
                        <span class="text-slate-700">"Description"</span>
                        <input name="description" required value="Nightly restore test" class=INPUT />
                    </label>
                    <label class="block">
                        <span class="text-slate-700">"Cluster"</span>
                        <select name="cluster_id" class=INPUT>
                            <Suspense fallback=|| ()>
                                {move || Suspend::new(async move {
                                    clusters
                                        .await
                                        .unwrap_or_default()
                                        .into_iter()
                                        .map(|c| view! { <option value=c.id.to_string()>{c.description.clone()}</option> })
                                        .collect_view()
                                })}
                            </Suspense>
                        </select>
                    </label>
                    <label class="block">
                        <span class="text-slate-700">"Schedule (cron, UTC)"</span>
                        <input name="schedule" required value="0 3 * * *" class=format!("{INPUT} font-mono") />
                    </label>
                </div>
                <button type="submit" class=format!("mt-3 {PRIMARY}")>"Schedule restore tests"</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn JobRow(
    job: JobOverview,
    run: ServerAction<RunJob>,
    change: ServerAction<ChangeJob>,
) -> impl IntoView {
    let JobOverview {
        job,
        cluster_description,
        next_run,
        last_run,
    } = job;
    let id = job.id.to_string();
    view! {
        <tr data-testid="job-row" data-id=id.clone()>
            <td class="px-4 py-3 font-medium"><a href=in_project(format!("/jobs/{id}")) class=LINK data-row-link="">{job.description.clone()}</a></td>
            <td class="px-4 py-3">{type_words(job.job_type)}</td>
            <td class="px-4 py-3 font-mono text-xs text-slate-600">{id.clone()}</td>
            <td class="px-4 py-3">
                <span>{schedule_words(&job.schedule)}</span>
                <span class="block font-mono text-xs text-slate-500">{job.schedule.clone()}</span>
            </td>
            <td class="px-4 py-3"><StatusBadge status=job.status.as_str().to_owned() /></td>
            <td class="px-4 py-3">
                <a href=in_project(format!("/clusters/{}", job.data.cluster_id)) class=LINK>
                    {cluster_description.unwrap_or_else(|| format!("{} (gone)", job.data.cluster_id))}
                </a>
            </td>
            <td class="px-4 py-3 text-slate-600">
                {match next_run {
                    Some(t) => view! { <Time time=t /> }.into_any(),
                    None => view! { <span>"—"</span> }.into_any(),
                }}
            </td>
            <td class="px-4 py-3">
                {match last_run {
                    Some(item) => view! {
                        <span title=item.details.clone()>
                            <StatusBadge status=history_status(item.status).to_owned() />
                        </span>
                    }
                    .into_any(),
                    None => view! { <span class="text-slate-400">"never run"</span> }.into_any(),
                }}
            </td>
            <td class="px-4 py-3 text-right whitespace-nowrap">
                <JobActions id=id.clone() status=job.status description=job.description.clone() run change />
            </td>
        </tr>
    }
}

#[component]
fn JobActions(
    id: String,
    status: JobStatus,
    description: String,
    run: ServerAction<RunJob>,
    change: ServerAction<ChangeJob>,
) -> impl IntoView {
    if status == JobStatus::Deleted {
        return view! { <span class="text-xs text-slate-500">"Deleted; its backups remain."</span> }.into_any();
    }
    let (toggle, toggle_label) = match status {
        JobStatus::Paused => ("resume", "Resume"),
        _ => ("pause", "Pause"),
    };
    let (run_id, change_id, delete_id) = (id.clone(), id.clone(), id);
    view! {
        <div class="inline-flex items-center gap-2">
            <ActionForm action=run>
                <ProjectField />
                <input type="hidden" name="id" value=run_id />
                <button type="submit" class=SECONDARY disabled=move || run.pending().get()>"Run now"</button>
            </ActionForm>
            <ActionForm action=change>
                <ProjectField />
                <input type="hidden" name="id" value=change_id />
                <input type="hidden" name="action" value=toggle />
                <button type="submit" class=SECONDARY>{toggle_label}</button>
            </ActionForm>
            <Confirm
                label="Delete"
                question=format!("Delete job {description}? Its backups stay, listed under its name.")
                refused=None
            >
                <ActionForm action=change>
                    <ProjectField />
                    <input type="hidden" name="id" value=delete_id />
                    <input type="hidden" name="action" value="delete" />
                    <button type="submit" class=DANGER>"Delete job"</button>
                </ActionForm>
            </Confirm>
        </div>
    }
    .into_any()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Details,
    Backups,
    History,
}

#[component]
pub fn JobPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let tab = Memo::new(move |_| match query.read().get("tab").as_deref() {
        Some("backups") => Tab::Backups,
        Some("history") => Tab::History,
        _ => Tab::Details,
    });
    let run = ServerAction::<RunJob>::new();
    let change = ServerAction::<ChangeJob>::new();
    let detail = Resource::new(
        move || (id(), run.version().get(), change.version().get()),
        |(id, _, _)| get_job_detail(id),
    );
    let history_query = Memo::new(move |_| page_query(&query.read()));
    let history = Resource::new(
        move || {
            (
                id(),
                history_query.get(),
                run.version().get(),
                change.version().get(),
            )
        },
        |(id, query, _, _)| page_job_history(id, query),
    );
    let run_failure = Failure::of(run);
    let change_failure = Failure::of(change);
    view! {
        <FormError message=run_failure.message() />
        <FormError message=change_failure.message() />
        <div data-live="job">
        <Loaded resource=detail what="the job" title="Job" let:detail>
            <JobView detail tab run change history history_query=history_query.get_untracked() />
        </Loaded>
        </div>
        // Outside the live region: what someone is typing is never swapped away.
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                detail.await.ok().map(|detail| view! { <JobSettings job=detail.overview.job /> })
            })}
        </Suspense>
    }
}

#[component]
fn JobView(
    detail: JobDetail,
    tab: Memo<Tab>,
    run: ServerAction<RunJob>,
    change: ServerAction<ChangeJob>,
    /// The History tab's page of runs, as the address asks.
    history: Resource<Result<Page<HistoryItem>, crate::error::ConsoleError>>,
    history_query: PageQuery,
) -> impl IntoView {
    let JobDetail {
        overview, backups, ..
    } = detail;
    let job = overview.job.clone();
    let id = job.id.to_string();
    let project = crate::components::named_project();
    let tab_link = move |which: Tab, label: &'static str, query: &'static str| {
        let href =
            crate::components::with_project(&format!("/jobs/{id}{query}"), project.as_deref());
        view! {
            <a
                href=href
                aria-current=move || (tab.get() == which).then_some("page")
                class="border-b-2 px-3 py-2 text-sm font-medium aria-[current=page]:border-sky-700 aria-[current=page]:text-sky-800 border-transparent text-slate-600 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-sky-600"
            >
                {label}
            </a>
        }
    };
    let what = match job.job_type {
        JobType::ScheduledBackup => [
            ("Backup label", job.data.description.clone()),
            ("Backups kept", job.data.max_backup_count.to_string()),
        ],
        JobType::ScheduledRestoreTest => [
            ("Type", "Restore test".to_owned()),
            (
                "Each run",
                "restores the cluster's newest available backup into a temporary cluster, \
                 checks it holds the events recorded at backup time, and deletes it"
                    .to_owned(),
            ),
        ],
    };
    let [first, second] = what;
    let rows = [
        ("Job ID", job.id.to_string()),
        ("Status", job.status.as_str().to_owned()),
        (
            "Schedule",
            format!("{} ({})", schedule_words(&job.schedule), job.schedule),
        ),
        first,
        second,
        (
            "Source cluster",
            overview
                .cluster_description
                .clone()
                .unwrap_or_else(|| job.data.cluster_id.to_string()),
        ),
        (
            "Next run",
            overview
                .next_run
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| "—".into()),
        ),
    ];
    let details = view! {
        <dl class="max-w-3xl divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
            {rows.into_iter().map(|(term, value)| view! { <Detail term>{value}</Detail> }).collect_view()}
        </dl>
    };
    let backup_list =
        view! { <BackupList backups testid="job-backup-row" empty="No backups yet." /> };
    let base = format!("/jobs/{}?tab=history", job.id);
    let history_list = view! {
        <FilterForm
            action=format!("/jobs/{}", job.id)
            query=history_query.clone()
            what="runs"
            statuses=cairn_model::paging::RUN_STATUSES
            hidden=vec![("tab", "history".to_owned())]
        />
        <Loaded resource=history what="runs" let:page>
            <History page query=history_query.clone() base=base.clone() />
        </Loaded>
    };
    view! {
        <PageHeader title=job.description.clone() description=match job.job_type {
            JobType::ScheduledBackup => format!("Scheduled backup job {}.", job.id),
            JobType::ScheduledRestoreTest => format!("Restore test job {}.", job.id),
        }>
            <JobActions id=job.id.to_string() status=job.status description=job.description.clone() run change />
        </PageHeader>
        <nav aria-label="Job sections" class="mb-4 flex gap-2 border-b border-slate-200">
            {tab_link(Tab::Details, "Details", "")}
            // A restore test makes no backups of its own: no tab for them.
            {(job.job_type == JobType::ScheduledBackup)
                .then(|| tab_link(Tab::Backups, "Backups", "?tab=backups"))}
            {tab_link(Tab::History, "History", "?tab=history")}
        </nav>
        <div>
            <div class:hidden=move || tab.get() != Tab::Details>{details}</div>
            <div class:hidden=move || tab.get() != Tab::Backups>{backup_list}</div>
            <div class:hidden=move || tab.get() != Tab::History>{history_list}</div>
        </div>
    }
}

/// A page of a job's runs: when each started and ended, how long it took, what happened.
#[component]
fn History(page: Page<HistoryItem>, query: PageQuery, base: String) -> impl IntoView {
    if page.items.is_empty() && query.page_token.is_none() {
        let words = if query.is_filtered() {
            "No run matches every filter."
        } else {
            "No runs yet."
        };
        return view! { <p class="text-sm text-slate-500">{words}</p> }.into_any();
    }
    let rows = page
        .items
        .into_iter()
        .map(|item| {
            let status = history_status(item.status);
            view! {
                <tr data-testid="history-row" data-status=status>
                    <td class="px-4 py-3"><StatusBadge status=status.to_owned() /></td>
                    <td class="px-4 py-3 text-slate-600"><Time time=item.start_time /></td>
                    <td class="px-4 py-3 text-slate-600">
                        {match item.end_time {
                            Some(end) => view! { <Time time=end /> }.into_any(),
                            None => view! { <span>"—"</span> }.into_any(),
                        }}
                    </td>
                    <td class="px-4 py-3 whitespace-nowrap" data-testid="run-duration">
                        {match item.end_time {
                            Some(end) => duration_words(item.start_time, end),
                            None => "running".to_owned(),
                        }}
                    </td>
                    <td class="px-4 py-3 text-slate-700">
                        {item.details.clone()}
                        {item.linked_resource.clone().map(|b| view! {
                            <a href=in_project(format!("/backups/{b}")) class=format!("block text-xs {LINK}")>{format!("backup {b}")}</a>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="max-w-5xl">
            <Table headers=&["Status", "Started", "Ended", "Took", "What happened"] narrow=Narrow { wide: "", roomy: "3" }>
                {rows}
            </Table>
            <PageLinks base query next=page.next_token />
        </div>
    }
    .into_any()
}
