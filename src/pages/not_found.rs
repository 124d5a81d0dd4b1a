use crate::components::{in_project, PageHeader};
use leptos::prelude::*;

/// Shown for any path the console does not know; answers HTTP 404 when rendered on the server.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <PageHeader title="Page not found" description="There is no page at this address." />
        <a href=in_project("/clusters") class="text-sm font-medium text-sky-700 hover:underline">"Go to Clusters"</a>
    }
}
