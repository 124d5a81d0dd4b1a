use leptos::prelude::*;
use leptos_meta::Title;

/// A page's title (also the document title) and one sentence on what the page is for.
#[component]
pub fn PageHeader(title: &'static str, description: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <header class="mb-6">
            <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
            <p class="mt-1 max-w-3xl text-sm text-slate-600">{description}</p>
        </header>
    }
}
