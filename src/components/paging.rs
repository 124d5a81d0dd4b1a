//! Lists a page at a time: the filter form (a plain GET form, so the address carries the
//! filters and the page, and a page is a link that works without JavaScript) and the
//! "First page" / "Next page" links under a list.

use crate::components::form::{INPUT, LINK, SECONDARY};
use crate::components::{in_project, ProjectField};
use cairn_model::PageQuery;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::params::ParamsMap;

/// The paging part of an address's query (`cairn_model::paging`, the API's names).
pub fn page_query(params: &ParamsMap) -> PageQuery {
    PageQuery {
        page_size: params.get("pageSize"),
        page_token: params.get("pageToken"),
        status: params.get("status"),
        cluster_id: params.get("clusterId"),
        job_id: params.get("jobId"),
        q: params.get("q"),
        order: params.get("order"),
    }
}

/// `base` (a path, perhaps with a query of its own: `/jobs/x?tab=history`) with `query`.
pub fn page_href(base: &str, query: &PageQuery) -> String {
    let extra = query.to_query_string();
    match (extra.is_empty(), base.contains('?')) {
        (true, _) => base.to_owned(),
        (false, true) => format!("{base}&{extra}"),
        (false, false) => format!("{base}?{extra}"),
    }
}

/// How long a run took, as people say it: "0.4 s", "12 s", "3 min 20 s", "2 h 5 min".
pub fn duration_words(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let millis = (end - start).num_milliseconds().max(0);
    let seconds = millis / 1000;
    match seconds {
        0..10 => format!("{:.1} s", millis as f64 / 1000.0),
        10..60 => format!("{seconds} s"),
        60..3600 => format!("{} min {} s", seconds / 60, seconds % 60),
        _ => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
    }
}

/// A choice of a select: its value and its words.
pub type Choice = (String, String);

/// The filters of a list, as a GET form to `action`: free text, a status (from `statuses`),
/// and when given, a cluster and a job to choose from; the order. `hidden` keeps parts of the
/// address that are not filters (`tab=history`). A new filter starts at the first page; the
/// page size asked for stays.
#[component]
pub fn FilterForm(
    /// Where the form goes (the list's path, no query).
    action: String,
    query: PageQuery,
    /// What the list is of, for the labels ("backups").
    what: &'static str,
    statuses: &'static [&'static str],
    #[prop(optional)] clusters: Option<Vec<Choice>>,
    #[prop(optional)] jobs: Option<Vec<Choice>>,
    #[prop(optional)] hidden: Vec<(&'static str, String)>,
) -> impl IntoView {
    let chosen = |value: &Option<String>, option: &str| value.as_deref() == Some(option);
    let status_options = statuses
        .iter()
        .map(|status| {
            view! { <option value=*status selected=chosen(&query.status, status)>{*status}</option> }
        })
        .collect_view();
    let select = |name: &'static str,
                  label: &'static str,
                  any: &'static str,
                  choices: Vec<Choice>,
                  value: Option<String>| {
        let options = choices
            .into_iter()
            .map(|(id, words)| {
                let selected = value.as_deref() == Some(id.as_str());
                view! { <option value=id selected=selected>{words}</option> }
            })
            .collect_view();
        view! {
            <label class="block">
                <span class="text-slate-700">{label}</span>
                <select name=name class=INPUT>
                    <option value="">{any}</option>
                    {options}
                </select>
            </label>
        }
    };
    let cluster = clusters.map(|c| {
        select(
            "clusterId",
            "Cluster",
            "Any cluster",
            c,
            query.cluster_id.clone(),
        )
    });
    let job = jobs.map(|j| select("jobId", "Job", "Any job", j, query.job_id.clone()));
    let descending = query.order.as_deref() != Some("asc");
    let clear_href = {
        let kept: Vec<String> = hidden
            .iter()
            .map(|(name, value)| format!("{name}={}", crate::components::url_encode(value)))
            .collect();
        if kept.is_empty() {
            in_project(&action)
        } else {
            in_project(format!("{action}?{}", kept.join("&")))
        }
    };
    let hidden = hidden
        .into_iter()
        .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
        .collect_view();
    let size = query
        .page_size
        .clone()
        .filter(|s| !s.trim().is_empty())
        .map(|size| view! { <input type="hidden" name="pageSize" value=size /> });
    view! {
        <form method="get" action=action role="search" aria-label=format!("Filter {what}") class="mb-4 flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 text-sm shadow-sm" data-testid="filter-form">
            <ProjectField />
            {hidden}
            {size}
            <label class="block min-w-48 flex-1">
                <span class="text-slate-700">"Search"</span>
                <input type="search" name="q" value=query.q.clone().unwrap_or_default() placeholder="Label, description or id" maxlength="200" class=INPUT />
            </label>
            <label class="block">
                <span class="text-slate-700">"Status"</span>
                <select name="status" class=INPUT>
                    <option value="">"Any status"</option>
                    {status_options}
                </select>
            </label>
            {cluster}
            {job}
            <label class="block">
                <span class="text-slate-700">"Order"</span>
                <select name="order" class=INPUT>
                    <option value="desc" selected=descending>"Newest first"</option>
                    <option value="asc" selected=!descending>"Oldest first"</option>
                </select>
            </label>
            <button type="submit" class=SECONDARY>"Filter"</button>
            <a href=clear_href class=format!("py-2 {LINK}")>"Clear"</a>
        </form>
    }
}

/// Under a page of a list: "First page" once past it, "Next page" while more follow. Both
/// keep the filters (`query`), whatever `base` carries, and the page's project.
#[component]
pub fn PageLinks(base: String, query: PageQuery, next: Option<String>) -> impl IntoView {
    let first = query
        .page_token
        .as_ref()
        .filter(|t| !t.is_empty())
        .map(|_| {
            let href = in_project(page_href(&base, &query.at(None)));
            view! { <a href=href class=LINK rel="first" data-testid="first-page">"First page"</a> }
        });
    let next = next.map(|token| {
        let href = in_project(page_href(&base, &query.at(Some(&token))));
        view! { <a href=href class=LINK rel="next" data-testid="next-page">"Next page ›"</a> }
    });
    let shown = first.is_some() || next.is_some();
    shown.then(|| {
        view! {
            <nav aria-label="Pages" class="mt-3 flex gap-4 text-sm">
                {first}
                {next}
            </nav>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_link_keeps_the_filters_and_what_its_base_carries() {
        let query = PageQuery {
            q: Some("nightly".into()),
            status: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(page_href("/backups", &query), "/backups?q=nightly");
        assert_eq!(
            page_href("/jobs/x?tab=history", &query.at(Some("t0k"))),
            "/jobs/x?tab=history&q=nightly&pageToken=t0k"
        );
        assert_eq!(page_href("/events", &PageQuery::default()), "/events");
    }

    #[test]
    fn durations_read_as_people_say_them() {
        let start: DateTime<Utc> = "2026-12-01T12:00:00Z".parse().unwrap();
        let after = |ms: i64| start + chrono::TimeDelta::milliseconds(ms);
        assert_eq!(duration_words(start, after(420)), "0.4 s");
        assert_eq!(duration_words(start, after(12_300)), "12 s");
        assert_eq!(duration_words(start, after(200_000)), "3 min 20 s");
        assert_eq!(duration_words(start, after(7_500_000)), "2 h 5 min");
    }
}
