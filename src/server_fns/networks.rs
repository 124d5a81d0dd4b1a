use crate::error::ConsoleError;
use cairn_model::Network;
use leptos::prelude::*;

/// Networks of the console's project.
#[server(endpoint = "networks/list")]
pub async fn list_networks() -> Result<Vec<Network>, ConsoleError> {
    let (console, scope) = crate::server::authorized().await?;
    Ok(console.services.list_networks(&scope).await?)
}
