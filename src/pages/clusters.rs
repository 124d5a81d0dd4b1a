use crate::components::form::{LINK, PRIMARY};
use crate::components::{
    in_project, named_project, DataTable, Loaded, Narrow, PageHeader, StatusBadge, Time,
};
use crate::pages::backup_dialog::{BackupDialog, DialogStep};
use crate::server_fns::{get_cluster_overview, list_clusters, CreateBackup, CreateJob};
use cairn_model::label::DEFAULT_LABEL;
use cairn_model::Cluster;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn ClustersPage() -> impl IntoView {
    let clusters = Resource::new(|| (), |_| list_clusters());
    view! {
        <PageHeader
            title="Clusters"
            description="Event-store clusters of this project. Back one up from its row; a backup restores into a new cluster."
        >
            <a href=in_project("/clusters/new") class=PRIMARY>"Create cluster"</a>
        </PageHeader>
        <div data-live="clusters">
        <Loaded resource=clusters what="clusters" let:list>
            <DataTable
                headers=&["Name", "Cluster ID", "Provider", "Region", "Type", "Version", "Status", "Created"]
                actions=true
                narrow=Narrow { wide: "2 3", roomy: "4 5 6 8" }
                empty_title="No clusters yet"
                empty_message="Clusters you create, or restore from a backup, appear here with their health and their backups."
                rows=list
                row=|cluster| view! { <ClusterRow cluster /> }
            />
        </Loaded>
        </div>
    }
}

/// `/clusters/:id/backup` and `/clusters/:id/schedule?description=…`: the list with the
/// backup dialog open at that step. The dialog gets the cluster from here, and the error of a
/// failed post (which comes back to this address) too.
#[component]
pub fn ClusterBackupRoute(step: DialogStep) -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = params.read_untracked().get("id").unwrap_or_default();
    let label = query
        .read_untracked()
        .get("description")
        .unwrap_or_else(|| DEFAULT_LABEL.to_owned());
    let backup_error = ServerAction::<CreateBackup>::new()
        .value()
        .get_untracked()
        .and_then(Result::err);
    let job_error = ServerAction::<CreateJob>::new()
        .value()
        .get_untracked()
        .and_then(Result::err);
    let overview = Resource::new(move || id.clone(), get_cluster_overview);
    view! {
        <ClustersPage />
        <Loaded resource=overview let:overview>
            <BackupDialog
                cluster=overview.cluster
                index=overview.next_backup_index
                step
                label=label.clone()
                close_href=in_project("/clusters")
                project=named_project()
                backup_error=backup_error.clone()
                job_error=job_error.clone()
            />
        </Loaded>
    }
}

#[component]
fn ClusterRow(cluster: Cluster) -> impl IntoView {
    let c = cluster;
    let id = c.id.to_string();
    let href = in_project(format!("/clusters/{id}"));
    let backup_href = in_project(format!("/clusters/{id}/backup"));
    let can_back_up = c.status == cairn_model::ClusterStatus::Available;
    view! {
        <tr data-testid="cluster-row" data-id=id.clone()>
            <td class="px-4 py-3 font-medium text-slate-900">
                <a href=href class=LINK data-row-link="">{c.description}</a>
            </td>
            <td class="px-4 py-3 font-mono text-xs text-slate-600">{id.clone()}</td>
            <td class="px-4 py-3">{c.provider}</td>
            <td class="px-4 py-3">{c.region}</td>
            <td class="px-4 py-3">{c.instance_type.name()}</td>
            <td class="px-4 py-3">{c.server_version}</td>
            <td class="px-4 py-3 whitespace-nowrap">
                <StatusBadge status=c.status.as_str().to_owned() />
                " "
                <StatusBadge status=c.health.as_str().to_owned() />
            </td>
            <td class="px-4 py-3 text-slate-600"><Time time=c.created /></td>
            <td class="px-4 py-3 text-right">
                {if can_back_up {
                    view! { <a href=backup_href class=LINK>"Create backup"</a> }.into_any()
                } else {
                    view! {
                        <span class="text-slate-400" title="Only an available cluster can be backed up">
                            "Create backup"
                        </span>
                    }
                    .into_any()
                }}
            </td>
        </tr>
    }
}
