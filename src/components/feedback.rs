use crate::components::PageHeader;
use crate::error::ConsoleError;
use leptos::prelude::*;
use std::sync::Arc;

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
            // What is wrong with the address (a page token, a filter), field by field.
            {(!error.fields.is_empty()).then(|| view! {
                <ul class="mt-1 list-disc pl-5" data-testid="error-fields">
                    {error.fields.into_values().map(|reason| view! { <li>{reason}</li> }).collect_view()}
                </ul>
            })}
        </div>
    }
}

#[component]
pub fn Loading(what: &'static str) -> impl IntoView {
    view! { <p class="text-sm text-slate-500" aria-live="polite">{format!("Loading {what}…")}</p> }
}

/// What a server function loads, once it has: `children` draws the value (`let:value`), and a
/// failure is said in the error panel instead. While loading, "Loading `what`…" (nothing
/// without `what`). `title`: the page's title above the error panel, for a page that has no
/// header of its own until it has loaded.
#[component]
pub fn Loaded<T, F, V>(
    resource: Resource<Result<T, ConsoleError>>,
    #[prop(optional)] what: Option<&'static str>,
    #[prop(optional)] title: Option<&'static str>,
    children: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let children = Arc::new(children);
    let fallback = move || match what {
        Some(what) => view! { <Loading what /> }.into_any(),
        None => ().into_any(),
    };
    view! {
        <Suspense fallback>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match (resource.await, title) {
                        (Ok(value), _) => children(value).into_any(),
                        (Err(error), Some(title)) => view! {
                            <PageHeader title description="" />
                            <ErrorPanel error />
                        }
                        .into_any(),
                        (Err(error), None) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
