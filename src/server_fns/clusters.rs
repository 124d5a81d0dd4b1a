use crate::error::ConsoleError;
use cairn_model::Cluster;
use leptos::prelude::*;

/// Clusters of the console's project.
#[server(endpoint = "clusters/list")]
pub async fn list_clusters() -> Result<Vec<Cluster>, ConsoleError> {
    let console = crate::server::console()?;
    Ok(console.services.list_clusters(&console.scope).await?)
}

/// Creates a cluster (or, with a source backup, restores one); it is `provisioning` until its
/// nodes answer.
#[server(endpoint = "clusters/create")]
pub async fn create_cluster(
    request: cairn_model::CreateClusterRequest,
) -> Result<Cluster, ConsoleError> {
    let console = crate::server::console()?;
    Ok(console
        .services
        .create_cluster(&console.scope, &request)
        .await?)
}

/// One cluster of the console's project.
#[server(endpoint = "clusters/get")]
pub async fn get_cluster(id: String) -> Result<Cluster, ConsoleError> {
    let console = crate::server::console()?;
    let id = super::parse_id("id", &id, cairn_model::ClusterId::parse)?;
    Ok(console.services.get_cluster(&console.scope, &id).await?)
}
