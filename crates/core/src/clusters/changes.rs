//! Changes to a cluster someone asks for: its disk, its size, its server version (applied by
//! the engine in the background, under the cluster's lock), and its description and deletion
//! protection (written at once). Each is recorded in the audit, done or refused.

use crate::audit::{Record, Subject};
use crate::error::{Error, Result};
use crate::lifecycle::ClusterEvent;
use crate::locks::LockKind;
use crate::ports::{ClusterChange, ClusterPatch};
use crate::services::{Scope, Services};
use cairn_model::audit::actions;
use cairn_model::Permission;
use cairn_model::{disk_type, server_versions, Cluster, ClusterId, ClusterStatus, InstanceType};

impl Services {
    /// Grows the cluster's disk; it cannot shrink.
    pub async fn expand_disk(
        &self,
        scope: &Scope,
        id: &ClusterId,
        disk_size_gb: u32,
    ) -> Result<Cluster> {
        let record = Record::in_scope(
            scope,
            actions::CLUSTER_EXPAND_DISK,
            Subject::new("cluster", id, format!("disk to {disk_size_gb} GB")),
        );
        let work = self.expanding_disk(scope, id, disk_size_gb);
        // The cluster answered is as the change found it (the engine applies the change in
        // the background): its disk is still the old size.
        self.audited(record, work, |cluster, _| {
            let (from, to) = (cluster.disk_size_gb, disk_size_gb);
            let summary = format!("{}: disk {from} → {to} GB", cluster.description);
            Subject::new("cluster", id, summary)
        })
        .await
    }

    async fn expanding_disk(
        &self,
        scope: &Scope,
        id: &ClusterId,
        disk_size_gb: u32,
    ) -> Result<Cluster> {
        scope.require(Permission::Operate)?;
        let cluster = self.get_cluster(scope, id).await?;
        let max =
            disk_type(&cluster.provider, &cluster.disk_type).map_or(u32::MAX, |d| d.max_size_gb);
        if disk_size_gb <= cluster.disk_size_gb {
            return Err(Error::invalid(
                "diskSizeGb",
                format!(
                    "must be larger than the current {} GB: disks only grow",
                    cluster.disk_size_gb
                ),
            ));
        }
        if disk_size_gb > max {
            return Err(Error::invalid(
                "diskSizeGb",
                format!("a {} disk is at most {max} GB", cluster.disk_type),
            ));
        }
        self.change_cluster(
            scope,
            cluster,
            LockKind::DiskExpansion,
            ClusterEvent::ExpandDisk,
            ClusterChange::ExpandDisk { disk_size_gb },
        )
        .await
    }

    pub async fn resize_cluster(
        &self,
        scope: &Scope,
        id: &ClusterId,
        instance_type: InstanceType,
    ) -> Result<Cluster> {
        let record = Record::in_scope(
            scope,
            actions::CLUSTER_RESIZE,
            Subject::new("cluster", id, format!("to {}", instance_type.name())),
        );
        let work = async {
            scope.require(Permission::Operate)?;
            let cluster = self.get_cluster(scope, id).await?;
            if cluster.instance_type == instance_type {
                return Err(Error::invalid(
                    "instanceType",
                    format!("the cluster is already {}", instance_type.name()),
                ));
            }
            self.change_cluster(
                scope,
                cluster,
                LockKind::Resize,
                ClusterEvent::Resize,
                ClusterChange::Resize { instance_type },
            )
            .await
        };
        // As the change found it: still its old size.
        self.audited(record, work, |cluster, _| {
            let (from, to) = (cluster.instance_type.name(), instance_type.name());
            let summary = format!("{}: {from} → {to}", cluster.description);
            Subject::new("cluster", id, summary)
        })
        .await
    }

    /// Moves the cluster to a newer server version of the catalogue; never down.
    pub async fn upgrade_cluster(
        &self,
        scope: &Scope,
        id: &ClusterId,
        server_version: &str,
    ) -> Result<Cluster> {
        let record = Record::in_scope(
            scope,
            actions::CLUSTER_UPGRADE,
            Subject::new("cluster", id, format!("to {server_version}")),
        );
        let work = self.upgrading_cluster(scope, id, server_version);
        // As the change found it: still its old version.
        let (cluster, _) = self
            .audited(record, work, |(cluster, to), _| {
                let from = &cluster.server_version;
                let summary = format!("{}: {from} → {to}", cluster.description);
                Subject::new("cluster", id, summary)
            })
            .await?;
        Ok(cluster)
    }

    /// The upgrade's work: answers the cluster as the change found it, and the version it
    /// goes to.
    async fn upgrading_cluster(
        &self,
        scope: &Scope,
        id: &ClusterId,
        server_version: &str,
    ) -> Result<(Cluster, String)> {
        scope.require(Permission::Operate)?;
        let cluster = self.get_cluster(scope, id).await?;
        let versions = server_versions();
        // A version ("24.10") or a tag ("24.10.1", what `esc` sends as `targetTag`).
        let Some(target) = versions
            .iter()
            .find(|v| v.version == server_version || v.tag == server_version)
        else {
            let offered: Vec<_> = versions.iter().map(|v| v.version.as_str()).collect();
            return Err(Error::invalid(
                "serverVersion",
                format!(
                    "unknown server version '{server_version}': use {}",
                    offered.join(", ")
                ),
            ));
        };
        if !cairn_model::restore::is_newer(&target.version, &cluster.server_version) {
            return Err(Error::invalid(
                "serverVersion",
                format!("must be newer than the current {}", cluster.server_version),
            ));
        }
        let change = ClusterChange::Upgrade {
            server_version: target.version.clone(),
            server_version_tag: target.tag.clone(),
        };
        let to = target.version.clone();
        let cluster = self
            .change_cluster(
                scope,
                cluster,
                LockKind::Upgrade,
                ClusterEvent::Upgrade,
                change,
            )
            .await?;
        Ok((cluster, to))
    }

    /// Changes what needs no engine work: the description, and deletion protection. Both are
    /// modifications, so a lock on the cluster (a backup, a change) refuses them, naming it.
    /// Recorded as what the request changes: a rename, protecting or unprotecting, or (both
    /// at once) an update that says each.
    pub async fn update_cluster(
        &self,
        scope: &Scope,
        id: &ClusterId,
        description: Option<&str>,
        protected: Option<bool>,
    ) -> Result<Cluster> {
        let description = description.map(str::trim);
        let action = match (description, protected) {
            (Some(_), None) => actions::CLUSTER_RENAME,
            (None, Some(true)) => actions::CLUSTER_PROTECT,
            (None, Some(false)) => actions::CLUSTER_UNPROTECT,
            _ => actions::CLUSTER_UPDATE,
        };
        let asked = update_words(description, protected);
        let record = Record::in_scope(scope, action, Subject::new("cluster", id, &asked));
        let work = self.updating_cluster(scope, id, description, protected);
        // Named as it was: "orders: renamed to billing".
        let (_, cluster) = self
            .audited(record, work, |(before, _), _| {
                Subject::new("cluster", id, format!("{}: {asked}", before.description))
            })
            .await?;
        Ok(cluster)
    }

    /// The update's work: answers the cluster as it was (read under the lock) and as it is.
    async fn updating_cluster(
        &self,
        scope: &Scope,
        id: &ClusterId,
        description: Option<&str>,
        protected: Option<bool>,
    ) -> Result<(Cluster, Cluster)> {
        scope.require(Permission::Operate)?;
        self.get_cluster(scope, id).await?;
        if let Some(description) = description {
            cairn_model::check_cluster_description(description)
                .map_err(|e| Error::invalid("description", e))?;
        }
        let patch = ClusterPatch {
            description: description.map(str::to_owned),
            protected,
            ..ClusterPatch::default()
        };
        let holder = self.take_lock(id, LockKind::Update).await?;
        let written = async {
            let current = self.get_cluster(scope, id).await?;
            if matches!(
                current.status,
                ClusterStatus::Deleting | ClusterStatus::Deleted
            ) {
                return Err(Error::conflict(format!("cluster {id} is being deleted")));
            }
            self.inner().store.patch_cluster(id, &patch).await?;
            Ok((current, self.get_cluster(scope, id).await?))
        }
        .await;
        self.release(id, &holder).await;
        written
    }
}

/// What an update asks, in the audit's words: "renamed to billing", "protected",
/// "renamed to billing, unprotected", "nothing to change".
fn update_words(description: Option<&str>, protected: Option<bool>) -> String {
    let mut words = Vec::new();
    if let Some(description) = description {
        words.push(format!("renamed to {description}"));
    }
    match protected {
        Some(true) => words.push("protected".to_owned()),
        Some(false) => words.push("unprotected".to_owned()),
        None => {}
    }
    if words.is_empty() {
        "nothing to change".to_owned()
    } else {
        words.join(", ")
    }
}
