//! Small read-only pieces the detail pages share.

use crate::components::form::LINK;
use crate::components::{human_bytes, in_project, StatusBadge, Time};
use cairn_model::Backup;
use leptos::prelude::*;

/// A compact list of backups (newest first as given): label linking to the backup, size,
/// creation time, status. `testid` names each row for the tests.
#[component]
pub fn BackupList(
    backups: Vec<Backup>,
    testid: &'static str,
    empty: &'static str,
) -> impl IntoView {
    if backups.is_empty() {
        return view! { <p class="text-sm text-slate-500">{empty}</p> }.into_any();
    }
    view! {
        <ul class="max-w-3xl divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white shadow-sm">
            {backups.into_iter().map(|b| view! {
                <li class="flex flex-wrap items-center justify-between gap-2 px-4 py-2 text-sm" data-testid=testid>
                    <a href=in_project(format!("/backups/{}", b.id)) class=LINK data-row-link="">{b.description.clone()}</a>
                    <span class="flex items-center gap-3 text-slate-600">
                        {b.bytes_stored.map(human_bytes)}
                        <Time time=b.created />
                        <StatusBadge status=b.status.as_str().to_owned() />
                    </span>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// One row of a details list: the term, and what it is (children).
#[component]
pub fn Detail(term: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="py-2 sm:grid sm:grid-cols-3 sm:gap-4">
            <dt class="text-sm font-medium text-slate-500">{term}</dt>
            <dd class="mt-1 text-sm text-slate-900 sm:col-span-2 sm:mt-0 break-all">{children()}</dd>
        </div>
    }
}
