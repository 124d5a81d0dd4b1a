//! The audit log: every change asked for in this project (and its organization's and the
//! site's: sign-ins, API tokens, passwords), newest first — who, when, what, from where, and
//! how it went. The filter is a plain GET form and the pages are links, so all of it works
//! with JavaScript off.

use crate::components::form::{INPUT, LINK, SECONDARY};
use crate::components::{
    in_project, url_encode, EmptyState, Loaded, PageHeader, ProjectField, Table, Time,
};
use crate::server_fns::list_audit;
use cairn_model::audit::actions;
use cairn_model::{AuditEntry, AuditOutcome, AuditPage};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// What the address asks for: `?actor=&resource=&action=&after=`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Asked {
    actor: String,
    resource: String,
    action: String,
    after: String,
}

impl Asked {
    /// The address of this filter, starting after the entry `after` (none: the newest).
    fn href(&self, after: Option<&str>) -> String {
        let mut parts = Vec::new();
        for (name, value) in [
            ("actor", &self.actor),
            ("resource", &self.resource),
            ("action", &self.action),
        ] {
            if !value.trim().is_empty() {
                parts.push(format!("{name}={}", url_encode(value.trim())));
            }
        }
        if let Some(after) = after {
            parts.push(format!("after={}", url_encode(after)));
        }
        if parts.is_empty() {
            in_project("/audit")
        } else {
            in_project(format!("/audit?{}", parts.join("&")))
        }
    }

    fn filters(&self) -> bool {
        [&self.actor, &self.resource, &self.action]
            .iter()
            .any(|v| !v.trim().is_empty())
    }
}

/// The kinds of action the filter offers besides each action: all of a kind at once.
const KINDS: &[(&str, &str)] = &[
    ("cluster", "anything done to clusters"),
    ("backup", "anything done to backups"),
    ("job", "anything done to jobs"),
    ("integration", "anything done to integrations"),
    ("network", "anything done to networks"),
    ("organization", "organizations made, renamed and deleted"),
    ("project", "projects made, renamed and deleted"),
    ("user", "users and roles"),
    ("token", "API tokens"),
    ("session", "signing in and out"),
];

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let asked = Memo::new(move |_| {
        let q = query.read();
        let get = |name: &str| q.get(name).unwrap_or_default();
        Asked {
            actor: get("actor"),
            resource: get("resource"),
            action: get("action"),
            after: get("after"),
        }
    });
    let page = Resource::new(
        move || asked.get(),
        |a| list_audit(a.actor, a.resource, a.action, a.after),
    );
    view! {
        <PageHeader
            title="Audit"
            description="Every change asked for in this project, newest first: who asked, when, from where, and whether it was done or refused (and why). Sign-ins, API tokens and passwords are listed too. Addresses are shown to the project's admins, and to whoever an entry is about."
        />
        <FilterForm asked=asked.get_untracked() />
        <Loaded resource=page what="the audit" let:found>
            <Entries page=found asked=asked.get_untracked() />
        </Loaded>
    }
}

/// The filter: a GET form to this page, so it works without JavaScript.
#[component]
fn FilterForm(asked: Asked) -> impl IntoView {
    let chosen = asked.action.clone();
    let option = move |value: &'static str, words: String| {
        let selected = chosen == value;
        view! { <option value=value selected=selected>{words}</option> }
    };
    let kinds = KINDS
        .iter()
        .map(|(kind, words)| option(kind, format!("{kind}: {words}")))
        .collect_view();
    let each = actions::ALL
        .iter()
        .map(|(action, words)| option(action, format!("{action}: {words}")))
        .collect_view();
    let clear = asked.filters().then(
        || view! { <a href=in_project("/audit") class=format!("self-end py-2 text-sm {LINK}")>"Clear"</a> },
    );
    view! {
        <form method="get" action="/audit" class="mb-4 flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 shadow-sm" role="search" aria-label="Filter the audit" data-testid="audit-filter">
            <ProjectField />
            <div class="w-64">
                <label for="audit-actor" class="block text-sm font-medium text-slate-800">"Person"</label>
                <input id="audit-actor" name="actor" type="search" value=asked.actor.clone() placeholder="email, user or token id" class=INPUT />
            </div>
            <div class="w-64">
                <label for="audit-resource" class="block text-sm font-medium text-slate-800">"Resource"</label>
                <input id="audit-resource" name="resource" type="search" value=asked.resource.clone() placeholder="a cluster, backup or job id" class=INPUT />
            </div>
            <div class="w-72">
                <label for="audit-action" class="block text-sm font-medium text-slate-800">"Action"</label>
                <select id="audit-action" name="action" class=INPUT>
                    <option value="" selected=asked.action.is_empty()>"every action"</option>
                    <optgroup label="Kinds">{kinds}</optgroup>
                    <optgroup label="Actions">{each}</optgroup>
                </select>
            </div>
            <button type="submit" class=SECONDARY>"Filter"</button>
            {clear}
        </form>
    }
}

#[component]
fn Entries(page: AuditPage, asked: Asked) -> impl IntoView {
    if page.entries.is_empty() {
        let (title, message) = if asked.filters() || !asked.after.is_empty() {
            (
                "Nothing matches",
                "No change matches this filter. Clear it to see everything.",
            )
        } else {
            (
                "Nothing has been changed yet",
                "Changes appear here as people make them: clusters, backups, jobs, sign-ins and tokens.",
            )
        };
        return view! { <EmptyState title message /> }.into_any();
    }
    let newest = (!asked.after.is_empty()).then(|| {
        view! { <a href=asked.href(None) class=LINK data-testid="audit-newest">"‹ Newest"</a> }
    });
    let older = page.next.as_ref().map(|next| {
        view! {
            <a href=asked.href(Some(next.as_str())) class=LINK data-testid="audit-older">"Older entries ›"</a>
        }
    });
    let rows = page
        .entries
        .into_iter()
        .map(|entry| view! { <EntryRow entry /> })
        .collect_view();
    view! {
        <Table headers=&["When", "Who", "What", "From", "Result"]>
            {rows}
        </Table>
        <nav aria-label="Audit pages" class="mt-3 flex justify-between text-sm">
            <span>{newest}</span>
            <span>{older}</span>
        </nav>
    }
    .into_any()
}

#[component]
fn EntryRow(entry: AuditEntry) -> impl IntoView {
    let who = entry.actor.words();
    let what = actions::words(&entry.action).to_owned();
    let about = match (entry.resource_kind.as_str(), entry.resource_id.as_str()) {
        (_, "") => None,
        ("backup", id) => Some(format!("/backups/{id}")),
        ("cluster", id) => Some(format!("/clusters/{id}")),
        ("job", id) => Some(format!("/jobs/{id}")),
        ("integration", id) => Some(format!("/integrations/{id}")),
        _ => None,
    };
    let summary = if entry.summary.is_empty() {
        format!("{} {}", entry.resource_kind, entry.resource_id)
    } else {
        entry.summary.clone()
    };
    let summary = match about {
        Some(href) => view! { <a href=in_project(href) class=LINK>{summary}</a> }.into_any(),
        None => view! { <span>{summary}</span> }.into_any(),
    };
    let why = match &entry.outcome {
        AuditOutcome::Ok => None,
        AuditOutcome::Refused { kind, message } => Some(format!("{kind}: {message}")),
    };
    let (result, tone) = match why {
        None => ("done", "bg-emerald-50 text-emerald-800 ring-emerald-600/20"),
        Some(_) => ("refused", "bg-red-50 text-red-800 ring-red-600/20"),
    };
    view! {
        <tr data-testid="audit-row" data-action=entry.action.clone() data-actor=entry.actor.email.clone().unwrap_or_default() data-result=result>
            <td class="px-4 py-3 whitespace-nowrap text-slate-600"><Time time=entry.at /></td>
            <td class="px-4 py-3 font-medium text-slate-900">{who}</td>
            <td class="px-4 py-3">
                <span class="block">{what}</span>
                <span class="block text-xs text-slate-600">{summary}</span>
            </td>
            <td class="px-4 py-3 font-mono text-xs text-slate-600">{entry.address.unwrap_or_else(|| "—".into())}</td>
            <td class="px-4 py-3">
                <span class=format!("inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {tone}")>{result}</span>
                {why.map(|why| view! { <p class="mt-1 text-xs text-red-700">{why}</p> })}
            </td>
        </tr>
    }
}
