use leptos::prelude::*;
use leptos_meta::Title;

/// A page's title (also the document title), one sentence on what the page is for, and the
/// page's main actions on the right.
#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    #[prop(into)] description: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <Title text=title.clone() />
        <header class="mb-6 flex flex-wrap items-start justify-between gap-4">
            <div class="min-w-0">
                <h1 class="text-2xl font-semibold tracking-tight break-words">{title}</h1>
                <p class="mt-1 max-w-3xl text-sm text-slate-600">{description}</p>
            </div>
            {children.map(|actions| view! { <div class="flex flex-wrap items-center gap-2">{actions()}</div> })}
        </header>
    }
}
