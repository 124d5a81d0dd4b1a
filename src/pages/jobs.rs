use crate::components::{EmptyState, PageHeader};
use leptos::prelude::*;

#[component]
pub fn JobsPage() -> impl IntoView {
    view! {
        <PageHeader
            title="Jobs"
            description="Scheduled backups: when each runs, how many backups it keeps, and the history of its runs."
        />
        <EmptyState
            title="No scheduled jobs yet"
            message="A backup schedule created from a cluster appears here with its next run and its history."
        />
    }
}
