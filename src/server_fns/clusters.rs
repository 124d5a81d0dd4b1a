use crate::error::ConsoleError;
use cairn_model::Cluster;
use leptos::prelude::*;

/// Clusters of the console's project.
#[server(endpoint = "clusters/list")]
pub async fn list_clusters() -> Result<Vec<Cluster>, ConsoleError> {
    let console = crate::server::console()?;
    Ok(console.services.list_clusters(&console.scope).await?)
}
