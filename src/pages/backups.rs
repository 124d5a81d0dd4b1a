//! All backups, a page at a time (newest first, filtered by a plain GET form: the address
//! carries the filters and the page), and above them, on the unfiltered first page, each
//! job's backups counted in one expandable row ("<job> - N backups - M available", linking
//! to the job). Live: progress and statuses update by themselves. Rows expand by address
//! (`?expand=<job id>`), so they work without JavaScript.

use crate::components::form::LINK;
use crate::components::{
    human_bytes, in_project, named_project, page_query, with_project, Detail, EmptyState, Failure,
    FilterForm, FormError, Loaded, Narrow, PageHeader, PageLinks, ProjectField, StatusBadge, Table,
    Time,
};
use crate::server_fns::{
    backup_job_groups, backup_storage, get_backup, is_verifying, list_clusters, page_backups,
    CancelBackup, DeleteBackup, VerifyBackup,
};
use cairn_model::paging::BACKUP_STATUSES;
use cairn_model::{Backup, BackupStatus, JobGroup, Page, PageQuery, RepositoryFacts, Verification};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// What can be done to a backup from a list or its page (a server action each).
#[derive(Clone, Copy)]
struct Commands {
    delete: ServerAction<DeleteBackup>,
    cancel: ServerAction<CancelBackup>,
}

impl Commands {
    fn new() -> Self {
        Commands {
            delete: ServerAction::new(),
            cancel: ServerAction::new(),
        }
    }

    /// The last command's error, if it failed.
    fn last_error(self) -> Option<crate::error::ConsoleError> {
        self.delete
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| self.cancel.value().get().and_then(Result::err))
    }

    fn version(self) -> usize {
        self.delete.version().get() + self.cancel.version().get()
    }
}

#[component]
pub fn BackupsPage() -> impl IntoView {
    let commands = Commands::new();
    let params = use_query_map();
    let query = Memo::new(move |_| page_query(&params.read()));
    let expanded = Memo::new(move |_| params.read().get("expand").filter(|e| !e.is_empty()));
    let page = Resource::new(
        move || (query.get(), commands.version()),
        |(query, _)| page_backups(query),
    );
    // Each job's summary row: on the list as it opens (no filter, first page).
    let groups = Resource::new(
        move || {
            let q = query.get();
            (
                q.is_filtered() || q.page_token.is_some(),
                commands.version(),
            )
        },
        |(hidden, _)| async move {
            if hidden {
                Ok(Vec::new())
            } else {
                backup_job_groups().await
            }
        },
    );
    // The expanded job's newest backups (all of them are one filter away).
    let expanded_rows = Resource::new(
        move || (expanded.get(), commands.version()),
        |(job, _)| async move {
            match job {
                None => Ok(None),
                Some(job) => page_backups(PageQuery {
                    job_id: Some(job),
                    ..Default::default()
                })
                .await
                .map(Some),
            }
        },
    );
    let choices = Resource::new(
        || (),
        |_| async move {
            let clusters = list_clusters().await?;
            let jobs = backup_job_groups().await?;
            Ok::<_, crate::error::ConsoleError>((
                clusters
                    .into_iter()
                    .map(|c| (c.id.to_string(), c.description))
                    .collect::<Vec<_>>(),
                jobs.into_iter()
                    .map(|j| (j.job_id.to_string(), j.job_description))
                    .collect::<Vec<_>>(),
            ))
        },
    );
    let failure = Failure::new(move || commands.last_error());
    view! {
        <PageHeader
            title="Backups"
            description="Backups made on demand and by scheduled jobs, side by side, newest first. A backup restores into a new cluster."
        />
        <FormError message=failure.message() />
        <WhereBackupsAreKept />
        <Loaded resource=choices let:found>
            {
                let (clusters, jobs) = found;
                view! {
                    <FilterForm
                        action="/backups".to_owned()
                        query=query.get_untracked()
                        what="backups"
                        statuses=BACKUP_STATUSES
                        clusters
                        jobs
                    />
                }
            }
        </Loaded>
        <div data-live="backups">
        <Loaded resource=groups let:groups>
            <JobGroups groups expanded rows=expanded_rows commands />
        </Loaded>
        <Loaded resource=page what="backups" let:page>
            <BackupTable page query=query.get_untracked() commands />
        </Loaded>
        </div>
    }
}

/// Where each region's backups are, whether they are encrypted, and the warning that goes with
/// a key: without a copy of it elsewhere, losing this machine loses every backup.
#[component]
fn WhereBackupsAreKept() -> impl IntoView {
    let storage = Resource::new(|| (), |_| backup_storage());
    view! {
        <Loaded resource=storage let:places>
            <StorageFacts places />
        </Loaded>
    }
}

#[component]
fn StorageFacts(places: Vec<RepositoryFacts>) -> impl IntoView {
    let key_files: Vec<String> = {
        let mut files: Vec<String> = places.iter().filter_map(|p| p.key_file.clone()).collect();
        files.dedup();
        files
    };
    let rows = places
        .into_iter()
        .map(|place| {
            let how = match (&place.problem, place.encrypted, &place.key_fingerprint) {
                (Some(problem), _, _) => view! { <span class="text-red-700">{format!("cannot be used now: {problem}")}</span> }.into_any(),
                (None, true, fingerprint) => view! {
                    <span>"encrypted, key fingerprint "<code class="font-mono text-xs">{fingerprint.clone().unwrap_or_default()}</code></span>
                }
                .into_any(),
                (None, false, _) => view! { <span class="text-amber-800">"not encrypted"</span> }.into_any(),
            };
            view! {
                <li>
                    <span class="font-medium">{place.region.clone()}</span>": "
                    <code class="font-mono text-xs break-all">{place.location.clone()}</code>" — "{how}
                </li>
            }
        })
        .collect_view();
    let warning = (!key_files.is_empty()).then(|| {
        view! {
            <p class="mt-2 text-amber-800" data-testid="key-warning">
                "Keep a copy of the key file "
                <code class="font-mono text-xs">{key_files.join(", ")}</code>
                " somewhere other than this machine: without it, encrypted backups cannot be restored."
            </p>
        }
    });
    view! {
        <section class="mb-4 rounded-lg border border-slate-200 bg-white p-3 text-sm shadow-sm" data-testid="backup-storage" aria-labelledby="backup-storage-title">
            <h2 id="backup-storage-title" class="font-medium text-slate-900">"Where backups are kept"</h2>
            <ul class="mt-1 space-y-1 text-slate-700">{rows}</ul>
            {warning}
        </section>
    }
}

/// A backup's last verification, in words: when, how long, and what it found.
fn verification_words(verification: Option<&Verification>, verifying: bool) -> (String, bool) {
    if verifying {
        return (
            "Verifying now: every chunk is read back and checked…".into(),
            false,
        );
    }
    match verification {
        None => ("Never verified".into(), false),
        Some(v) => {
            let when = crate::components::ago(v.at, crate::components::now());
            let took = format!("{:.1} s", v.duration_ms as f64 / 1000.0);
            if v.ok {
                (
                    format!("Verified {when} (took {took}): {}", v.detail),
                    false,
                )
            } else {
                (
                    format!("Verification failed {when} (took {took}): {}", v.detail),
                    true,
                )
            }
        }
    }
}

/// Each job's backups in one summary row ("<job> - N backups - M available", linking to the
/// job); a row expands by address (`?expand=<job id>`) into the job's newest backups, with
/// a link to all of them when there are more.
#[component]
fn JobGroups(
    groups: Vec<JobGroup>,
    expanded: Memo<Option<String>>,
    rows: Resource<Result<Option<Page<Backup>>, crate::error::ConsoleError>>,
    commands: Commands,
) -> impl IntoView {
    if groups.is_empty() {
        return ().into_any();
    }
    let project = named_project();
    let groups = groups
        .into_iter()
        .map(|group| {
            let job_id = group.job_id.to_string();
            let summary = group.summary();
            let open = {
                let job_id = job_id.clone();
                Signal::derive(move || expanded.get().as_deref() == Some(job_id.as_str()))
            };
            let toggle_href = {
                let job_id = job_id.clone();
                let project = project.clone();
                move || {
                    let path = if open.get() { "/backups".to_owned() } else { format!("/backups?expand={job_id}") };
                    with_project(&path, project.as_deref())
                }
            };
            let all_href = in_project(format!("/backups?jobId={job_id}"));
            view! {
                <tbody class="divide-y divide-slate-100 border-b border-slate-200" data-testid="job-group">
                    <tr class="bg-slate-50/70">
                        <td colspan="9" class="px-4 py-2 text-sm">
                            <a
                                href=toggle_href
                                class="font-medium text-slate-900 hover:underline focus-visible:outline-2 focus-visible:outline-sky-600"
                                aria-expanded=move || open.get().to_string()
                                data-testid="job-group-toggle"
                            >
                                <span aria-hidden="true" class="mr-1 inline-block w-3">{move || if open.get() { "▾" } else { "▸" }}</span>
                                {summary}
                            </a>
                            <a href=in_project(format!("/jobs/{job_id}")) class=format!("ml-3 text-xs {LINK}")>
                                {if group.job_deleted { "deleted job" } else { "job" }}
                            </a>
                        </td>
                    </tr>
                    <Show when=move || open.get()>
                        <ExpandedGroup rows commands all_href=all_href.clone() />
                    </Show>
                </tbody>
            }
        })
        .collect_view();
    view! {
        <section class="mb-4" aria-label="Backups by job">
            <Table
                headers=&["Description", "Status", "Created", "Size", "New", "Source cluster", "Provider", "Version"]
                actions=true
                narrow=Narrow { wide: "5 7 8", roomy: "3 4 6" }
                grouped=true
            >
                {groups}
            </Table>
        </section>
    }
    .into_any()
}

/// The expanded job's newest backups, and a link to all of them when there are more.
#[component]
fn ExpandedGroup(
    rows: Resource<Result<Option<Page<Backup>>, crate::error::ConsoleError>>,
    commands: Commands,
    all_href: String,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let all_href = all_href.clone();
                Suspend::new(async move {
                    let page = rows.await.ok().flatten().unwrap_or_default();
                    let more = page.next_token.is_some().then(|| view! {
                        <tr><td colspan="9" class="px-4 py-2 text-sm">
                            <a href=all_href class=LINK>"All of this job's backups ›"</a>
                        </td></tr>
                    });
                    view! {
                        {page.items.into_iter().map(|b| view! { <BackupRow backup=b commands /> }).collect_view()}
                        {more}
                    }
                })
            }}
        </Suspense>
    }
}

/// A page of backups (one-off and scheduled alike), and the links to the pages around it.
#[component]
fn BackupTable(page: Page<Backup>, query: PageQuery, commands: Commands) -> impl IntoView {
    if page.items.is_empty() && query.page_token.is_none() {
        let (title, message) = if query.is_filtered() {
            (
                "No backups match",
                "No backup meets every filter: change or clear them.",
            )
        } else {
            (
                "No backups yet",
                "Backups appear here once a cluster has been backed up, one-off or on a schedule.",
            )
        };
        return view! { <EmptyState title message /> }.into_any();
    }
    let rows = page
        .items
        .into_iter()
        .map(|b| view! { <BackupRow backup=b commands /> })
        .collect_view();
    view! {
        <Table
            headers=&["Description", "Status", "Created", "Size", "New", "Source cluster", "Provider", "Version"]
            actions=true
            narrow=Narrow { wide: "5 7 8", roomy: "3 4 6" }
        >
            {rows}
        </Table>
        <PageLinks base="/backups".to_owned() query next=page.next_token />
    }
    .into_any()
}

/// Who took a backup, in words: "by alice@example.com", or its job ("job My Hourly Backup");
/// none for backups taken before Cairn recorded it.
fn taken_by(backup: &Backup) -> Option<String> {
    let by = backup.created_by.as_deref()?;
    Some(if backup.linked_resource.is_some() {
        by.to_owned()
    } else {
        format!("by {by}")
    })
}

/// Why a backup cannot be restored now, if it cannot.
fn restore_refusal(backup: &Backup) -> Option<&'static str> {
    match backup.status {
        BackupStatus::Available => None,
        BackupStatus::Creating => Some("It is still being created."),
        BackupStatus::Defunct => Some("A defunct backup holds no usable data."),
        BackupStatus::Cancelled => Some("A cancelled backup holds no usable data."),
        BackupStatus::Deleting | BackupStatus::Deleted => Some("It is being deleted."),
    }
}

/// Why a backup cannot be deleted now, if it cannot (being restored is checked on submit).
fn delete_refusal(backup: &Backup) -> Option<String> {
    match backup.status {
        BackupStatus::Creating => Some("It is still being created: wait for it to finish.".into()),
        BackupStatus::Deleting | BackupStatus::Deleted => {
            Some("It is already being deleted.".into())
        }
        _ => None,
    }
}

#[component]
fn BackupRow(backup: Backup, commands: Commands) -> impl IntoView {
    let b = backup;
    let id = b.id.to_string();
    let status = b.status.as_str();
    let size = match (&b.progress, b.bytes_stored) {
        (Some(p), _) if b.status == BackupStatus::Creating => {
            let percent = (p.bytes_done * 100)
                .checked_div(p.bytes_total)
                .unwrap_or(0)
                .min(100);
            view! {
                <div class="w-36" data-testid="backup-progress">
                    <div class="h-1.5 rounded bg-slate-200" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent.to_string()>
                        <div class="h-1.5 rounded bg-sky-600" style=format!("width: {percent}%")></div>
                    </div>
                    <span class="text-xs text-slate-600">
                        {format!("{} of {}", human_bytes(p.bytes_done), human_bytes(p.bytes_total))}
                    </span>
                </div>
            }
            .into_any()
        }
        (_, Some(stored)) => view! { <span>{human_bytes(stored)}</span> }.into_any(),
        _ => view! { <span class="text-slate-400">"—"</span> }.into_any(),
    };
    view! {
        <tr data-testid="backup-row" data-id=id.clone() data-status=status>
            <td class="px-4 py-3 font-medium text-slate-900">
                <a href=in_project(format!("/backups/{id}")) class=LINK data-testid="backup-description" data-row-link="">{b.description.clone()}</a>
                {taken_by(&b).map(|by| view! { <p class="mt-0.5 text-xs font-normal text-slate-500" data-testid="backup-created-by">{by}</p> })}
                {b.failure_reason.clone().map(|reason| view! { <p class="mt-0.5 text-xs font-normal text-red-700">{reason}</p> })}
            </td>
            <td class="px-4 py-3"><StatusBadge status=b.status.as_str().to_owned() /></td>
            <td class="px-4 py-3 text-slate-600"><Time time=b.created /></td>
            <td class="px-4 py-3">{size}</td>
            <td class="px-4 py-3 text-slate-600" title="Bytes this backup added to the repository; the rest was already there">
                {b.bytes_new.map(human_bytes).unwrap_or_else(|| "—".into())}
            </td>
            <td class="px-4 py-3">
                <a href=in_project(format!("/clusters/{}", b.source_cluster_id)) class=LINK>{b.source_cluster_description.clone()}</a>
            </td>
            <td class="px-4 py-3">{b.provider.clone()}</td>
            <td class="px-4 py-3">{b.server_version.clone()}</td>
            <td class="px-4 py-3 text-right whitespace-nowrap">
                <BackupActions backup=b commands />
            </td>
        </tr>
    }
}

#[component]
fn BackupActions(backup: Backup, commands: Commands) -> impl IntoView {
    let id = backup.id.to_string();
    let cancel_id = id.clone();
    let cancel_question = format!(
        "Cancel backup {}? The snapshot stops and what it wrote is removed.",
        backup.description
    );
    let cancel = (backup.status == BackupStatus::Creating).then(move || {
        crate::confirm_by_id!(
            commands.cancel,
            cancel_id,
            "Cancel",
            cancel_question,
            None,
            "Cancel backup",
        )
    });
    let restore = match restore_refusal(&backup) {
        None => view! { <a href=in_project(format!("/backups/{id}/restore")) class=format!("mr-3 {LINK}")>"Restore"</a> }.into_any(),
        Some(reason) => view! {
            <span class="mr-3 text-slate-400" title=reason>"Restore"<span class="sr-only">{format!(" (not possible: {reason})")}</span></span>
        }
        .into_any(),
    };
    view! {
        {restore}
        {cancel}
        {crate::confirm_by_id!(
            commands.delete,
            id.clone(),
            "Delete",
            format!("Delete backup {}? Its snapshot is removed too.", backup.description),
            delete_refusal(&backup),
            "Delete backup",
        )}
    }
}

/// One backup: what it is, where it came from, and what can be done with it.
#[component]
pub fn BackupPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let commands = Commands::new();
    let verify = ServerAction::<VerifyBackup>::new();
    let backup = Resource::new(
        move || (id(), verify.version().get() + commands.version()),
        |(id, _)| async move {
            let verifying = is_verifying(id.clone()).await.unwrap_or(false);
            get_backup(id).await.map(|backup| (backup, verifying))
        },
    );
    let failure = Failure::new(move || {
        commands
            .last_error()
            .or_else(|| verify.value().get().and_then(Result::err))
    });
    view! {
        <Loaded resource=backup what="the backup" title="Backup" let:found>
            {
                let (b, verifying) = found;
                let for_actions = b.clone();
                let (verified, damaged) = verification_words(b.verification.as_ref(), verifying);
                let initiated_by = taken_by(&b);
                let can_verify = b.status == BackupStatus::Available && !verifying;
                let id_value = b.id.to_string();
                let detail = |term: &'static str, value: String| view! { <Detail term>{value}</Detail> };
                view! {
                    <div data-live="backup">
                    <PageHeader title=b.description.clone() description=format!("Backup of {}.", b.source_cluster_description)>
                        {can_verify.then(|| view! {
                            <span class="mr-3 inline-block">
                                <ActionForm action=verify>
                                    <ProjectField />
                                    <input type="hidden" name="id" value=id_value.clone() />
                                    <button type="submit" class=LINK title="Read every chunk back and check every hash">"Verify"</button>
                                </ActionForm>
                            </span>
                        })}
                        <BackupActions backup=for_actions commands />
                    </PageHeader>
                    <FormError message=failure.message() />
                    <section class="max-w-3xl rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
                        <dl class="divide-y divide-slate-100">
                            {detail("Backup ID", b.id.to_string())}
                            <Detail term="Status"><div data-testid="backup-status">
                                    <StatusBadge status=b.status.as_str().to_owned() />
                                    {b.failure_reason.clone().map(|r| view! { <p class="mt-1 text-red-700">{r}</p> })}
                                </div></Detail>
                            <Detail term="Created"><div><Time time=b.created /></div></Detail>
                            <Detail term="Verification"><div data-testid="backup-verification" class=if damaged { "text-red-700" } else { "" }>{verified}</div></Detail>
                            {b.contents.map(|c| detail("Events at backup time", format!("{} events, up to position {}", c.event_count, c.last_position)))}
                            {detail("Available nodes", b.available_node_count.to_string())}
                            {detail("Size", b.bytes_stored.map(human_bytes).unwrap_or_else(|| "—".into()))}
                            {detail("New in the repository", b.bytes_new.map(human_bytes).unwrap_or_else(|| "—".into()))}
                            {detail("Files", b.file_count.map(|n| n.to_string()).unwrap_or_else(|| "—".into()))}
                            {detail("Minimum disk to restore into", format!("{} GB", b.size_gb))}
                            {detail("Server version", format!("{} ({})", b.server_version, b.server_version_tag))}
                            {detail("Provider / region", format!("{} / {}", b.provider, b.region))}
                            <Detail term="Source cluster"><div>
                                    <a href=in_project(format!("/clusters/{}", b.source_cluster_id)) class=LINK>{b.source_cluster_description.clone()}</a>
                                </div></Detail>
                            <Detail term="Initiated by"><div data-testid="backup-created-by">
                                    {match (b.linked_resource.clone(), initiated_by.clone()) {
                                        (Some(job), by) => view! {
                                            <a href=in_project(format!("/jobs/{job}")) class=LINK>{by.unwrap_or_else(|| format!("job {job}"))}</a>
                                        }.into_any(),
                                        (None, Some(by)) => view! { <span>{by}</span> }.into_any(),
                                        (None, None) => view! { <span>"a person (one-off)"</span> }.into_any(),
                                    }}
                                </div></Detail>
                            {b.checksum.clone().map(|c| detail("Snapshot", c))}
                        </dl>
                    </section>
                    </div>
                }
            }
        </Loaded>
    }
}
