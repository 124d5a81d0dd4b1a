use crate::error::ConsoleError;
use cairn_model::{Cluster, ClusterOverview, CreateClusterRequest};
#[cfg(feature = "ssr")]
use cairn_model::{ClusterId, Permission};
use leptos::prelude::*;

/// Clusters of the console's project.
#[server(endpoint = "clusters/list")]
pub async fn list_clusters() -> Result<Vec<Cluster>, ConsoleError> {
    let (console, scope) = crate::server::authorized(Permission::Read).await?;
    Ok(console.services.list_clusters(&scope).await?)
}

/// A cluster with its nodes, backups and lock holder.
#[server(endpoint = "clusters/overview")]
pub async fn get_cluster_overview(id: String) -> Result<ClusterOverview, ConsoleError> {
    let (console, scope, id) =
        super::authorized_id(Permission::Read, &id, ClusterId::parse).await?;
    Ok(console.services.cluster_overview(&scope, &id).await?)
}

/// Creates a cluster — or, with `sourceBackupId`, restores a backup into a new one — and
/// goes to its page, where it is `provisioning` until its nodes answer.
#[server(endpoint = "clusters/create")]
pub async fn create_cluster(request: CreateClusterRequest) -> Result<Cluster, ConsoleError> {
    let (console, scope) = crate::server::authorized(Permission::Operate).await?;
    let cluster = console.services.create_cluster(&scope, &request).await?;
    super::go_with_notice(
        &format!("/clusters/{}", cluster.id),
        &format!("Cluster “{}” is being provisioned.", cluster.description),
    );
    Ok(cluster)
}

/// One cluster of the console's project.
#[server(endpoint = "clusters/get")]
pub async fn get_cluster(id: String) -> Result<Cluster, ConsoleError> {
    let (console, scope, id) =
        super::authorized_id(Permission::Read, &id, ClusterId::parse).await?;
    Ok(console.services.get_cluster(&scope, &id).await?)
}

/// Deletes a cluster (refused while protected or locked) and goes back to the list.
#[server(endpoint = "clusters/delete")]
pub async fn delete_cluster(id: String) -> Result<Cluster, ConsoleError> {
    let (console, scope, id) =
        super::authorized_id(Permission::Operate, &id, ClusterId::parse).await?;
    let cluster = console.services.delete_cluster(&scope, &id).await?;
    super::go_with_notice(
        "/clusters",
        &format!("Cluster “{}” is being deleted.", cluster.description),
    );
    Ok(cluster)
}
