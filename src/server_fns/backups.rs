use crate::error::ConsoleError;
use cairn_model::Backup;
use leptos::prelude::*;

/// Starts a one-off backup of a cluster; it is `creating` until its snapshot is done.
#[server(endpoint = "backups/create")]
pub async fn create_backup(
    cluster_id: String,
    description: String,
) -> Result<Backup, ConsoleError> {
    let console = crate::server::console()?;
    let cluster_id = super::parse_id("clusterId", &cluster_id, cairn_model::ClusterId::parse)?;
    Ok(console
        .services
        .create_backup(&console.scope, &cluster_id, &description)
        .await?)
}

/// One backup, with its progress while it is being created.
#[server(endpoint = "backups/get")]
pub async fn get_backup(id: String) -> Result<Backup, ConsoleError> {
    let console = crate::server::console()?;
    let id = super::parse_id("id", &id, cairn_model::BackupId::parse)?;
    Ok(console.services.get_backup(&console.scope, &id).await?)
}
