use crate::components::{EmptyState, PageHeader};
use leptos::prelude::*;

#[component]
pub fn BackupsPage() -> impl IntoView {
    view! {
        <PageHeader
            title="Backups"
            description="Backups made on demand and by scheduled jobs, side by side. A backup restores into a new cluster."
        />
        <EmptyState
            title="No backups yet"
            message="Backups appear here once a cluster has been backed up, one-off or on a schedule."
        />
    }
}
