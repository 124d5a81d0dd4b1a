#[cfg(feature = "ssr")]
use crate::components::with_notice;
use crate::error::ConsoleError;
use cairn_model::{Cluster, ClusterOverview, CreateClusterRequest};
use leptos::prelude::*;

/// Clusters of the console's project.
#[server(endpoint = "clusters/list")]
pub async fn list_clusters() -> Result<Vec<Cluster>, ConsoleError> {
    let console = crate::server::authorized(cairn_model::Permission::Read)?;
    Ok(console.services.list_clusters(&console.scope).await?)
}

/// A cluster with its nodes, backups and lock holder.
#[server(endpoint = "clusters/overview")]
pub async fn get_cluster_overview(id: String) -> Result<ClusterOverview, ConsoleError> {
    let console = crate::server::authorized(cairn_model::Permission::Read)?;
    let id = super::parse_id("id", &id, cairn_model::ClusterId::parse)?;
    Ok(console
        .services
        .cluster_overview(&console.scope, &id)
        .await?)
}

/// Creates a cluster — or, with `sourceBackupId`, restores a backup into a new one — and
/// goes to its page, where it is `provisioning` until its nodes answer.
#[server(endpoint = "clusters/create")]
pub async fn create_cluster(request: CreateClusterRequest) -> Result<Cluster, ConsoleError> {
    let console = crate::server::authorized(cairn_model::Permission::Operate)?;
    let principal = crate::server::auth::principal()
        .ok_or_else(|| ConsoleError::internal("authorized without a principal"))?;
    cairn_core::access::check_restore_source(&principal, &console.scope, &request)?;
    let cluster = console
        .services
        .create_cluster(&console.scope, &request)
        .await?;
    leptos_axum::redirect(&with_notice(
        &format!("/clusters/{}", cluster.id),
        &format!("Cluster “{}” is being provisioned.", cluster.description),
    ));
    Ok(cluster)
}

/// One cluster of the console's project.
#[server(endpoint = "clusters/get")]
pub async fn get_cluster(id: String) -> Result<Cluster, ConsoleError> {
    let console = crate::server::authorized(cairn_model::Permission::Read)?;
    let id = super::parse_id("id", &id, cairn_model::ClusterId::parse)?;
    Ok(console.services.get_cluster(&console.scope, &id).await?)
}

/// Deletes a cluster (refused while protected or locked) and goes back to the list.
#[server(endpoint = "clusters/delete")]
pub async fn delete_cluster(id: String) -> Result<Cluster, ConsoleError> {
    let console = crate::server::authorized(cairn_model::Permission::Operate)?;
    let id = super::parse_id("id", &id, cairn_model::ClusterId::parse)?;
    let cluster = console.services.delete_cluster(&console.scope, &id).await?;
    leptos_axum::redirect(&with_notice(
        "/clusters",
        &format!("Cluster “{}” is being deleted.", cluster.description),
    ));
    Ok(cluster)
}
