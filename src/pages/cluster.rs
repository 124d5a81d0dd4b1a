//! A cluster's page: details, addresses, each node's health, who holds its lock, its backups.

use crate::components::form::PRIMARY;
use crate::components::{
    in_project, BackupList, Detail, Failure, FormError, Loaded, PageHeader, StatusBadge, Time,
};
use crate::pages::cluster_changes::ClusterChanges;
use crate::server_fns::{get_cluster_overview, DeleteCluster};
use cairn_model::{ClusterOverview, ClusterStatus};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ClusterPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let overview = Resource::new(id, get_cluster_overview);
    let delete = ServerAction::<DeleteCluster>::new();
    let failure = Failure::of(delete);
    view! {
        <Loaded resource=overview what="the cluster" title="Cluster" let:overview>
            <Overview overview delete failure />
        </Loaded>
    }
}

#[component]
fn Overview(
    overview: ClusterOverview,
    delete: ServerAction<DeleteCluster>,
    failure: Failure,
) -> impl IntoView {
    let ClusterOverview {
        cluster: c,
        nodes,
        nodes_probed_at,
        backups,
        lock,
        restored_from,
        ..
    } = overview;
    let id = c.id.to_string();
    let refused = if c.protected {
        Some("This cluster is protected: turn protection off to delete it.".to_owned())
    } else {
        lock.clone().map(|l| format!("{l}: wait for it to finish."))
    };
    let can_back_up = c.status == ClusterStatus::Available && lock.is_none();
    let detail = |term: &'static str, value: String| view! { <Detail term>{value}</Detail> };
    let changes = view! { <ClusterChanges cluster=c.clone() lock=lock.clone() /> };
    view! {
        <div data-live="cluster">
        <PageHeader title=c.description.clone() description=format!("Cluster {} in {} / {}.", c.id, c.provider, c.region)>
            {can_back_up.then(|| view! {
                <a href=in_project(format!("/clusters/{id}/backup")) class=PRIMARY>"Create backup"</a>
            })}
            {crate::confirm_by_id!(
                delete,
                id.clone(),
                "Delete",
                format!("Delete cluster {}? Its nodes and volumes are removed; its backups stay.", c.description),
                refused,
                "Delete cluster",
            )}
        </PageHeader>
        {restored_from.map(|from| {
            // The backup's page, in its own project (which may be another one).
            let href = from.project_id.as_ref().map(|project| {
                crate::components::with_project(&format!("/backups/{}", from.backup_id), Some(project.as_str()))
            });
            view! {
                <p class="mb-4" data-testid="restored-from">
                    <span class="inline-flex items-center rounded-full bg-violet-50 px-2.5 py-0.5 text-xs font-medium text-violet-800 ring-1 ring-inset ring-violet-200">
                        {match href {
                            Some(href) => view! { <a href=href class="hover:underline">{from.sentence()}</a> }.into_any(),
                            None => view! { <span>{from.sentence()}</span> }.into_any(),
                        }}
                    </span>
                </p>
            }
        })}
        <FormError message=failure.message() />
        {lock.map(|lock| view! {
            <p role="status" data-testid="cluster-lock" class="mb-4 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
                {lock}
            </p>
        })}
        <div class="grid gap-6 lg:grid-cols-2">
            <section class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="details-heading">
                <h2 id="details-heading" class="mb-2 text-base font-semibold">"Details"</h2>
                <dl class="divide-y divide-slate-100">
                    {detail("Cluster ID", c.id.to_string())}
                    <Detail term="Status">
                        <span data-testid="cluster-status">
                            <StatusBadge status=c.status.as_str().to_owned() />
                            " "
                            <StatusBadge status=c.health.as_str().to_owned() />
                        </span>
                    </Detail>
                    {detail("Topology", c.topology.label().to_owned())}
                    {detail("Instance size", c.instance_type.name().to_owned())}
                    {detail("Disk", format!("{} GB {}", c.disk_size_gb, c.disk_type))}
                    {detail("Server version", format!("{} ({})", c.server_version, c.server_version_tag))}
                    {detail("Projections", c.projection_level.label().to_owned())}
                    {detail("Network", c.network_id.to_string())}
                    {detail("Protected", if c.protected { "yes".into() } else { "no".into() })}
                    {c.source_backup_id.as_ref().map(|b| detail("Restored from backup", b.to_string()))}
                    <Detail term="Created"><Time time=c.created /></Detail>
                </dl>
            </section>
            <section class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="nodes-heading">
                <h2 id="nodes-heading" class="mb-2 text-base font-semibold">"Nodes"</h2>
                <p class="mb-3 text-sm text-slate-600">
                    "Addresses: " <span class="font-mono text-xs">{c.addresses.tcp.join(", ")}</span>
                    {nodes_probed_at.map(|at| view! {
                        <span class="ml-2 text-xs text-slate-500" data-testid="nodes-probed">"probed " <Time time=at /></span>
                    })}
                </p>
                {if nodes.is_empty() {
                    view! { <p class="text-sm text-slate-500">"No node has been probed yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="divide-y divide-slate-100">
                            {nodes.into_iter().map(|n| view! {
                                <li class="flex items-center justify-between gap-3 py-2 text-sm" data-testid="node-row">
                                    <span>
                                        <span class="font-medium">{format!("Node {} ({})", n.index, n.role)}</span>
                                        <span class="ml-2 font-mono text-xs text-slate-500">{n.address}</span>
                                    </span>
                                    <span class="text-right">
                                        <StatusBadge status=if n.healthy { "ok".to_owned() } else { "degraded".to_owned() } />
                                        <span class="ml-2 text-xs text-slate-600">{n.detail}</span>
                                    </span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }
                    .into_any()
                }}
            </section>
        </div>
        <section class="mt-6" aria-labelledby="backups-heading">
            <h2 id="backups-heading" class="mb-2 text-base font-semibold">"Backups of this cluster"</h2>
            <BackupList backups testid="cluster-backup-row" empty="None yet." />
        </section>
        </div>
        // Outside the live region: what someone is typing is never swapped away.
        {changes}
    }
}
