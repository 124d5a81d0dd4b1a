use crate::components::{format_utc, EmptyState, ErrorPanel, Loading, PageHeader, StatusBadge};
use crate::server_fns::list_clusters;
use cairn_model::Cluster;
use leptos::prelude::*;

#[component]
pub fn ClustersPage() -> impl IntoView {
    let clusters = Resource::new(|| (), |_| list_clusters());
    view! {
        <PageHeader
            title="Clusters"
            description="Event-store clusters of this project. Back one up from its row; a backup restores into a new cluster."
        />
        <Suspense fallback=|| view! { <Loading what="clusters" /> }>
            {move || Suspend::new(async move {
                match clusters.await {
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState
                            title="No clusters yet"
                            message="Clusters you create, or restore from a backup, appear here with their health and their backups."
                        />
                    }
                    .into_any(),
                    Ok(list) => view! { <ClusterTable clusters=list /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ClusterTable(clusters: Vec<Cluster>) -> impl IntoView {
    let rows = clusters
        .into_iter()
        .map(|c| {
            view! {
                <tr data-testid="cluster-row">
                    <td class="px-4 py-3 font-medium text-slate-900">{c.description}</td>
                    <td class="px-4 py-3 font-mono text-xs text-slate-600">{c.id.to_string()}</td>
                    <td class="px-4 py-3">{c.provider}</td>
                    <td class="px-4 py-3">{c.region}</td>
                    <td class="px-4 py-3">{c.instance_type.name()}</td>
                    <td class="px-4 py-3">{c.server_version}</td>
                    <td class="px-4 py-3">
                        <StatusBadge status=c.status.as_str().to_owned() />
                        " "
                        <StatusBadge status=c.health.as_str().to_owned() />
                    </td>
                    <td class="px-4 py-3 whitespace-nowrap text-slate-600">{format_utc(c.created)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-3">"Name"</th>
                        <th scope="col" class="px-4 py-3">"Cluster ID"</th>
                        <th scope="col" class="px-4 py-3">"Provider"</th>
                        <th scope="col" class="px-4 py-3">"Region"</th>
                        <th scope="col" class="px-4 py-3">"Type"</th>
                        <th scope="col" class="px-4 py-3">"Version"</th>
                        <th scope="col" class="px-4 py-3">"Status"</th>
                        <th scope="col" class="px-4 py-3">"Created"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">{rows}</tbody>
            </table>
        </div>
    }
}
