//! Form pieces: labelled fields with their error beside them, and the console's buttons.

use leptos::prelude::*;

pub const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm \
     focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-500/30 aria-[invalid=true]:border-red-500";
pub const PRIMARY: &str = "inline-flex items-center justify-center rounded-md bg-sky-700 px-3 py-2 text-sm font-semibold text-white shadow-sm \
     hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 disabled:cursor-not-allowed disabled:opacity-50";
pub const SECONDARY: &str = "inline-flex items-center justify-center rounded-md bg-white px-3 py-2 text-sm font-semibold text-slate-800 shadow-sm ring-1 ring-inset ring-slate-300 \
     hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 disabled:cursor-not-allowed disabled:opacity-50";
pub const DANGER: &str = "inline-flex items-center justify-center rounded-md bg-red-700 px-3 py-2 text-sm font-semibold text-white shadow-sm \
     hover:bg-red-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-red-600 disabled:cursor-not-allowed disabled:opacity-50";
pub const LINK: &str = "font-medium text-sky-800 underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-sky-600";

/// A labelled field: the label, the input (children), a hint, and the error for `name` —
/// announced, and tied to the input by `aria-describedby` (`{id}-error`).
#[component]
pub fn Field(
    /// The input's id.
    id: &'static str,
    label: &'static str,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(into)] error: Signal<Option<String>>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="mb-4">
            <label for=id class="block text-sm font-medium text-slate-800">{label}</label>
            {children()}
            {hint.map(|hint| view! { <p class="mt-1 text-xs text-slate-500">{hint}</p> })}
            <p id=format!("{id}-error") class="mt-1 text-sm text-red-700" data-testid=format!("{id}-error") aria-live="polite">
                {move || error.get()}
            </p>
        </div>
    }
}

/// A message above a form: what failed when it is not one field's fault.
#[component]
pub fn FormError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.with(Option::is_some)>
            <div role="alert" data-testid="form-error" class="mb-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
                {move || message.get()}
            </div>
        </Show>
    }
}

/// A schedule in words and its next runs, or a hint to fix it. `runs` follows what is typed,
/// computed by the model's own schedule code (what the server stores with).
#[component]
pub fn NextRuns(
    runs: Signal<Option<(String, Vec<chrono::DateTime<chrono::Utc>>)>>,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="mb-4 rounded-md bg-slate-50 px-3 py-2 text-sm" data-testid=testid>
            {move || match runs.get() {
                Some((words, upcoming)) => view! {
                    <p class="font-medium text-slate-800">{format!("Runs {words}. Next runs:")}</p>
                    <ol class="mt-1 list-inside list-decimal font-mono text-xs text-slate-700">
                        {upcoming
                            .into_iter()
                            .map(|t| view! { <li>{t.format("%a %Y-%m-%d %H:%M UTC").to_string()}</li> })
                            .collect_view()}
                    </ol>
                }
                .into_any(),
                None => view! { <p class="text-slate-500">"Fix the schedule to see its next runs."</p> }.into_any(),
            }}
        </div>
    }
}
