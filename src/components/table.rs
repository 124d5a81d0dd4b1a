//! The console's tables, written once: the scrolling frame, the column headers, the body, and
//! a list's empty state in place of a table with no rows.

use crate::components::EmptyState;
use leptos::prelude::*;

/// Which columns give way on smaller screens, by their 1-based position: `wide` ones show from
/// 1536 px, `roomy` ones from 768 px (style/tailwind.css has the rules). A 1280 px laptop then
/// sees every row's actions without scrolling, and a phone the name, status and actions.
#[derive(Clone, Copy, Default)]
pub struct Narrow {
    pub wide: &'static str,
    pub roomy: &'static str,
}

/// A list as a table: one row per item, drawn by `row` (a `<tr>`), or, when there are no
/// items, the empty state. `actions` adds a last column
/// with no visible header, for each row's buttons, kept in view when the table scrolls;
/// `testid` names the `<table>`.
#[component]
pub fn DataTable<T, R, V>(
    headers: &'static [&'static str],
    #[prop(optional)] actions: bool,
    #[prop(optional)] narrow: Narrow,
    #[prop(optional)] testid: Option<&'static str>,
    /// The empty state's heading.
    empty_title: &'static str,
    /// The empty state's sentence: what will appear here, and how.
    empty_message: &'static str,
    rows: Vec<T>,
    row: R,
) -> impl IntoView
where
    T: 'static,
    R: Fn(T) -> V + 'static,
    V: IntoView + 'static,
{
    if rows.is_empty() {
        return view! { <EmptyState title=empty_title message=empty_message /> }.into_any();
    }
    let body = view! {
        <tbody class="divide-y divide-slate-100">{rows.into_iter().map(row).collect_view()}</tbody>
    };
    frame(headers, actions, narrow, testid, false, body.into_any())
}

/// A table's frame and headers around rows the page writes itself (`children`: `<tr>`s, or a
/// `<For>` of them). With `grouped`, the children are whole `<tbody>`s, groups of rows, and
/// the table draws no lines between them itself.
#[component]
pub fn Table(
    headers: &'static [&'static str],
    #[prop(optional)] actions: bool,
    #[prop(optional)] narrow: Narrow,
    #[prop(optional)] grouped: bool,
    children: Children,
) -> impl IntoView {
    let body = if grouped {
        children()
    } else {
        view! { <tbody class="divide-y divide-slate-100">{children()}</tbody> }.into_any()
    };
    frame(headers, actions, narrow, None, grouped, body)
}

fn frame(
    headers: &'static [&'static str],
    actions: bool,
    narrow: Narrow,
    testid: Option<&'static str>,
    grouped: bool,
    body: AnyView,
) -> AnyView {
    let class = if grouped {
        "min-w-full text-sm"
    } else {
        "min-w-full divide-y divide-slate-200 text-sm"
    };
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table class=class data-testid=testid data-wide=narrow.wide data-roomy=narrow.roomy data-actions=actions.then_some("")>
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
                    <tr>
                        {headers.iter().map(|header| view! { <th scope="col" class="px-4 py-3">{*header}</th> }).collect_view()}
                        {actions.then(|| view! {
                            <th scope="col" class="px-4 py-3"><span class="sr-only">"Actions"</span></th>
                        })}
                    </tr>
                </thead>
                {body}
            </table>
        </div>
    }
    .into_any()
}
