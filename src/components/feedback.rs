use crate::error::ConsoleError;
use leptos::prelude::*;

/// What a list shows when it has nothing in it: what will appear here, and how.
#[component]
pub fn EmptyState(title: &'static str, message: &'static str) -> impl IntoView {
    view! {
        <div class="rounded-lg border border-dashed border-slate-300 bg-white px-6 py-12 text-center">
            <h2 class="text-base font-semibold text-slate-900">{title}</h2>
            <p class="mx-auto mt-1 max-w-md text-sm text-slate-600">{message}</p>
        </div>
    }
}

/// A failure to load, said plainly where the content would have been.
#[component]
pub fn ErrorPanel(error: ConsoleError) -> impl IntoView {
    view! {
        <div role="alert" class="rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
            <p class="font-medium">"This could not be loaded."</p>
            <p class="mt-1">{error.message}</p>
        </div>
    }
}

#[component]
pub fn Loading(what: &'static str) -> impl IntoView {
    view! { <p class="text-sm text-slate-500" aria-live="polite">{format!("Loading {what}…")}</p> }
}
