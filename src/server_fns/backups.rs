use crate::error::ConsoleError;
use cairn_model::{Backup, JobGroup, Page, PageQuery, RepositoryFacts, RestoreChoices};
#[cfg(feature = "ssr")]
use cairn_model::{BackupId, ClusterId, Permission, ProjectId};
use leptos::prelude::*;

/// Starts a one-off backup of a cluster (`description` is a label template) and goes to the
/// backups list, where it is `creating` until its snapshot is done.
#[server(endpoint = "backups/create")]
pub async fn create_backup(
    cluster_id: String,
    description: String,
) -> Result<Backup, ConsoleError> {
    let (console, scope) = crate::server::authorized().await?;
    let cluster_id = super::parse_id("clusterId", &cluster_id, ClusterId::parse)
        .map_err(|fault| super::judged(&scope, Permission::Operate, fault))?;
    let backup = console
        .services
        .create_backup(&scope, &cluster_id, &description)
        .await?;
    super::go_with_notice(
        "/backups",
        &format!("Backup “{}” started.", backup.description),
    );
    Ok(backup)
}

/// One backup, with its progress while it is being created.
#[server(endpoint = "backups/get")]
pub async fn get_backup(id: String) -> Result<Backup, ConsoleError> {
    let (console, scope, id) = super::authorized_id(Permission::Read, &id, BackupId::parse).await?;
    Ok(console.services.get_backup(&scope, &id).await?)
}

/// What the restore form offers for a backup of this project: the projects of its
/// organization where clusters may be made, and the networks of `target` (empty: the
/// backup's own project).
#[server(endpoint = "backups/restore-choices")]
pub async fn get_restore_choices(
    id: String,
    #[server(default)] target: String,
) -> Result<RestoreChoices, ConsoleError> {
    let (console, scope, id) = super::authorized_id(Permission::Read, &id, BackupId::parse).await?;
    let target = match target.trim() {
        "" => None,
        text => Some(super::parse_id("target", text, ProjectId::parse)?),
    };
    Ok(console
        .services
        .restore_choices(&scope, &id, target.as_ref())
        .await?)
}

/// A page of backups, filtered and ordered as the address asks.
#[server(endpoint = "backups/page")]
pub async fn page_backups(query: PageQuery) -> Result<Page<Backup>, ConsoleError> {
    let (console, scope) = crate::server::authorized().await?;
    let request = cairn_core::paging::page_request(&query)?;
    Ok(console.services.page_backups(&scope, &request).await?)
}

/// Each job with backups, counted ("<job> - N backups - M available").
#[server(endpoint = "backups/job-groups")]
pub async fn backup_job_groups() -> Result<Vec<JobGroup>, ConsoleError> {
    let (console, scope) = crate::server::authorized().await?;
    Ok(console.services.backup_job_groups(&scope).await?)
}

/// Deletes a backup and its snapshot (refused while it is being created or restored).
#[server(endpoint = "backups/delete")]
pub async fn delete_backup(id: String) -> Result<Backup, ConsoleError> {
    let (console, scope, id) =
        super::authorized_id(Permission::Operate, &id, BackupId::parse).await?;
    let backup = console.services.delete_backup(&scope, &id).await?;
    super::go_with_notice(
        "/backups",
        &format!("Backup “{}” is being deleted.", backup.description),
    );
    Ok(backup)
}

/// Stops a backup being created (its partial data is removed, the cluster's lock released) and
/// goes back to the page it was cancelled from.
#[server(endpoint = "backups/cancel")]
pub async fn cancel_backup(id: String) -> Result<Backup, ConsoleError> {
    let (console, scope, id) =
        super::authorized_id(Permission::Operate, &id, BackupId::parse).await?;
    let backup = console.services.cancel_backup(&scope, &id).await?;
    super::back_with_notice(
        "/backups",
        &format!("Backup “{}” was cancelled.", backup.description),
    )
    .await;
    Ok(backup)
}

/// Starts verifying a backup (every chunk read back, every hash checked) and comes back to
/// its page, where the result shows once it is done.
#[server(endpoint = "backups/verify")]
pub async fn verify_backup(id: String) -> Result<Backup, ConsoleError> {
    let (console, scope, id) =
        super::authorized_id(Permission::Operate, &id, BackupId::parse).await?;
    let backup = console.services.verify_backup(&scope, &id).await?;
    super::go_with_notice(
        &format!("/backups/{id}"),
        &format!("Verification of “{}” started.", backup.description),
    );
    Ok(backup)
}

/// Whether a backup's verification runs now.
#[server(endpoint = "backups/verifying")]
pub async fn is_verifying(id: String) -> Result<bool, ConsoleError> {
    let (console, scope, id) = super::authorized_id(Permission::Read, &id, BackupId::parse).await?;
    Ok(console.services.is_verifying(&scope, &id).await?)
}

/// Where each region keeps its backups, and whether they are encrypted.
#[server(endpoint = "backups/storage")]
pub async fn backup_storage() -> Result<Vec<RepositoryFacts>, ConsoleError> {
    let (console, scope) = crate::server::authorized().await?;
    Ok(console.services.backup_storage(&scope).await?)
}
