use crate::error::ConsoleError;
use cairn_model::{Cluster, ClusterOverview, CreateClusterRequest};
#[cfg(feature = "ssr")]
use cairn_model::{ClusterId, InstanceType, Permission};
use leptos::prelude::*;

/// Clusters of the console's project.
#[server(endpoint = "clusters/list")]
pub async fn list_clusters() -> Result<Vec<Cluster>, ConsoleError> {
    let (console, scope) = crate::server::authorized().await?;
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
    let (console, scope) = crate::server::authorized().await?;
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

/// The changes a cluster's page offers. Each takes the cluster's lock, so a running backup or
/// another change refuses it, naming the holder; the page then shows the restart's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterEdit {
    ExpandDisk,
    Resize,
    Upgrade,
    Rename,
    Protect,
    Unprotect,
}

/// One change of a cluster from its page's forms (`edit` says which; `value` is the new disk
/// size, instance type, server version or description) and back to the page with a notice.
#[server(endpoint = "clusters/change")]
pub async fn change_cluster(
    id: String,
    edit: ClusterEdit,
    #[server(default)] value: String,
) -> Result<Cluster, ConsoleError> {
    let (console, scope, id) =
        super::authorized_id(Permission::Operate, &id, ClusterId::parse).await?;
    let services = &console.services;
    let value = value.trim();
    let (cluster, notice) = match edit {
        ClusterEdit::ExpandDisk => {
            let size: u32 = value.parse().map_err(|_| {
                let fault =
                    ConsoleError::invalid("diskSizeGb", format!("'{value}' is not a size in GB"));
                super::judged(&scope, Permission::Operate, fault)
            })?;
            let cluster = services.expand_disk(&scope, &id, size).await?;
            (
                cluster,
                format!("The disk is growing to {size} GB, one node at a time."),
            )
        }
        ClusterEdit::Resize => {
            let size: InstanceType =
                serde_json::from_value(serde_json::json!(value)).map_err(|_| {
                    let fault = ConsoleError::invalid(
                        "instanceType",
                        format!("'{value}' is not an instance size"),
                    );
                    super::judged(&scope, Permission::Operate, fault)
                })?;
            let cluster = services.resize_cluster(&scope, &id, size).await?;
            (
                cluster,
                format!("Resizing to {}, one node at a time.", size.name()),
            )
        }
        ClusterEdit::Upgrade => {
            let cluster = services.upgrade_cluster(&scope, &id, value).await?;
            (
                cluster,
                format!("Upgrading to {value}, one node at a time."),
            )
        }
        ClusterEdit::Rename => {
            let cluster = services
                .update_cluster(&scope, &id, Some(value), None)
                .await?;
            let notice = format!("Renamed to “{}”.", cluster.description);
            (cluster, notice)
        }
        ClusterEdit::Protect | ClusterEdit::Unprotect => {
            let protect = edit == ClusterEdit::Protect;
            let cluster = services
                .update_cluster(&scope, &id, None, Some(protect))
                .await?;
            let notice = if protect {
                "Protected: it cannot be deleted until protection is turned off."
            } else {
                "Protection is off: the cluster can be deleted."
            };
            (cluster, notice.to_owned())
        }
    };
    super::go_with_notice(&format!("/clusters/{}", cluster.id), &notice);
    Ok(cluster)
}
