//! Clusters: create (and restore, which is a create from a backup), provisioned in the
//! background by the engine: `provisioning → available | defunct`; delete. The changes to a
//! cluster someone asks for are in [`changes`].

mod changes;

use crate::audit::{Record, Subject};
use crate::error::{Error, Result};
use crate::lifecycle::{cluster_transition, ClusterEvent};
use crate::locks::{ClusterLock, LockKind, LockOutcome};
use crate::ports::{ClusterChange, ClusterPatch, Notification};
use crate::services::{Scope, Services};
use cairn_model::audit::actions;
use cairn_model::Permission;
use cairn_model::{
    check_cluster_request, check_restore, disk_type, server_versions, Cluster, ClusterAddresses,
    ClusterHealth, ClusterId, ClusterStatus, CreateClusterRequest,
};

impl Services {
    /// Creates a cluster; with `sourceBackupId`, restores that backup into it. Every broken
    /// rule comes back at once as a field error. Answers with the cluster as `provisioning`.
    pub async fn create_cluster(
        &self,
        scope: &Scope,
        request: &CreateClusterRequest,
    ) -> Result<Cluster> {
        let (action, subject) = match &request.source_backup_id {
            None => (
                actions::CLUSTER_CREATE,
                Subject::new("network", &request.network_id, request.description.trim()),
            ),
            Some(backup) => (
                actions::CLUSTER_RESTORE,
                Subject::new("backup", backup, request.description.trim()),
            ),
        };
        let work = async {
            scope.require(Permission::Operate)?;
            let (cluster, provisioning) = self.start_cluster(scope, request).await?;
            self.spawn(provisioning);
            Ok(cluster)
        };
        let record = Record::in_scope(scope, action, subject);
        self.audited(record, work, |cluster, _| {
            let summary = match &cluster.source_backup_id {
                None => cluster.description.clone(),
                Some(backup) => format!("{} from backup {backup}", cluster.description),
            };
            Subject::new("cluster", &cluster.id, summary)
        })
        .await
    }

    /// Checks, stores and locks a new cluster; answers it and the provisioning still to run
    /// (spawned by `create_cluster`, awaited by a restore test).
    pub(crate) async fn start_cluster(
        &self,
        scope: &Scope,
        request: &CreateClusterRequest,
    ) -> Result<(
        Cluster,
        impl std::future::Future<Output = ()> + Send + 'static,
    )> {
        let engine = self.engine()?;
        let store = &self.inner().store;
        let network = store
            .networks(&scope.project_id)
            .await?
            .into_iter()
            .find(|n| n.id == request.network_id);
        let source = match &request.source_backup_id {
            None => None,
            Some(id) => self.find_restorable(scope, request, id).await?,
        };
        let errors = match &request.source_backup_id {
            None => check_cluster_request(request, network.as_ref()),
            Some(_) => check_restore(request, source.as_ref(), network.as_ref()),
        };
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let network = network.expect("checked above");
        let version = server_versions()
            .into_iter()
            .find(|v| v.version == request.server_version)
            .expect("checked above");

        let raw = self.inner().ids.next(self.inner().clock.as_ref());
        let cluster = Cluster {
            id: ClusterId::from_raw(raw),
            organization_id: scope.organization_id.clone(),
            project_id: scope.project_id.clone(),
            network_id: network.id.clone(),
            description: request.description.trim().to_owned(),
            provider: network.provider.clone(),
            region: network.region.clone(),
            topology: request.topology,
            instance_type: request.instance_type,
            disk_size_gb: request.disk_size_gb,
            // As the catalogue spells it (`GP3` was accepted as `gp3`).
            disk_type: disk_type(&network.provider, &request.disk_type)
                .map_or_else(|| request.disk_type.clone(), |d| d.name),
            server_version: version.version,
            server_version_tag: version.tag,
            projection_level: request.projection_level,
            status: ClusterStatus::Provisioning,
            health: ClusterHealth::Ok,
            protected: request.protected,
            created: raw.time(),
            source_backup_id: request.source_backup_id.clone(),
            addresses: ClusterAddresses::default(),
        };
        store.insert_cluster(&cluster).await?;
        // Provisioning holds the new cluster's lock: it owns the operation (see recovery.rs).
        let lock = ClusterLock {
            cluster_id: cluster.id.clone(),
            kind: LockKind::Provisioning,
            holder_id: cluster.id.to_string(),
            job_id: None,
            acquired_at: raw.time(),
            owner: self.inner().instance.clone(),
        };
        if let LockOutcome::HeldBy(holder) = store.acquire_lock(&lock).await? {
            return Err(Error::conflict(holder.to_string()));
        }
        tracing::info!(cluster.id = %cluster.id, restore.from = ?cluster.source_backup_id, "provisioning cluster");

        let services = self.clone();
        let provisioning = cluster.clone();
        let work = async move {
            let outcome = engine.provision(&provisioning, source.as_ref()).await;
            let (id, holder) = (provisioning.id.clone(), provisioning.id.to_string());
            match services.finish_provisioning(provisioning, outcome).await {
                Ok(()) => services.release(&id, &holder).await,
                // Left provisioning and locked: settled as a dead operation later.
                Err(error) => tracing::error!(%error, "could not record the end of provisioning"),
            }
        };
        Ok((cluster, work))
    }

    async fn finish_provisioning(
        &self,
        mut cluster: Cluster,
        outcome: std::result::Result<ClusterAddresses, crate::ports::EngineError>,
    ) -> Result<()> {
        let event = match &outcome {
            Ok(_) => ClusterEvent::Provisioned,
            Err(_) => ClusterEvent::ProvisioningFailed,
        };
        cluster.status = cluster_transition(cluster.status, event).map_err(Error::conflict_from)?;
        let mut patch = ClusterPatch::status(cluster.status);
        match outcome {
            Ok(addresses) => {
                patch.addresses = Some(addresses);
                self.inner()
                    .store
                    .patch_cluster(&cluster.id, &patch)
                    .await?;
                tracing::info!(cluster.id = %cluster.id, "cluster available");
                // Its page shows its nodes now, not at supervision's next probe.
                if let Ok(engine) = self.engine() {
                    if let Ok(nodes) = engine.nodes(&cluster).await {
                        self.record_probe(&cluster, nodes);
                    }
                }
            }
            Err(error) => {
                patch.health = Some(ClusterHealth::Down);
                patch.apply_to(&mut cluster);
                self.inner()
                    .store
                    .patch_cluster(&cluster.id, &patch)
                    .await?;
                self.announce_defunct(&cluster, &error.to_string()).await;
            }
        }
        Ok(())
    }

    pub async fn get_cluster(&self, scope: &Scope, id: &ClusterId) -> Result<Cluster> {
        scope.require(Permission::Read)?;
        self.inner()
            .store
            .cluster(&scope.project_id, id)
            .await?
            .ok_or_else(|| Error::not_found("cluster", id))
    }
}

/// What a change writes to the cluster record once the engine has applied it.
fn record_change(change: &ClusterChange) -> ClusterPatch {
    let mut patch = ClusterPatch::default();
    match change {
        ClusterChange::ExpandDisk { disk_size_gb } => patch.disk_size_gb = Some(*disk_size_gb),
        ClusterChange::Resize { instance_type } => patch.instance_type = Some(*instance_type),
        ClusterChange::Upgrade {
            server_version,
            server_version_tag,
        } => patch.server_version = Some((server_version.clone(), server_version_tag.clone())),
        ClusterChange::Delete => {}
    }
    patch
}

impl Services {
    /// Deletes a cluster (its backups stay). Refused when protected or locked; protection is
    /// read under the lock, so protecting it a moment before always wins.
    pub async fn delete_cluster(&self, scope: &Scope, id: &ClusterId) -> Result<Cluster> {
        let work = async {
            scope.require(Permission::Operate)?;
            let cluster = self.get_cluster(scope, id).await?;
            self.change_cluster(
                scope,
                cluster,
                LockKind::Deletion,
                ClusterEvent::DeleteRequested,
                ClusterChange::Delete,
            )
            .await
        };
        let record = Record::in_scope(
            scope,
            actions::CLUSTER_DELETE,
            Subject::new("cluster", id, ""),
        );
        self.audited(record, work, |cluster, _| {
            Subject::new("cluster", id, cluster.description.clone())
        })
        .await
    }

    /// Takes the cluster's lock for an operation of `kind`; answers the holder id to release
    /// it with. A held lock is a conflict naming its holder.
    pub(crate) async fn take_lock(&self, id: &ClusterId, kind: LockKind) -> Result<String> {
        let raw = self.inner().ids.next(self.inner().clock.as_ref());
        let lock = ClusterLock {
            cluster_id: id.clone(),
            kind,
            holder_id: raw.encode(),
            job_id: None,
            acquired_at: raw.time(),
            owner: self.inner().instance.clone(),
        };
        match self.inner().store.acquire_lock(&lock).await? {
            LockOutcome::HeldBy(holder) => Err(Error::conflict(holder.to_string())),
            LockOutcome::Acquired => Ok(lock.holder_id),
        }
    }

    /// Takes the cluster's lock, reads it again under the lock (nothing can change it now),
    /// moves it to the change's status, and lets the engine apply the change in the
    /// background; the lock is released when it ends, however it ends.
    async fn change_cluster(
        &self,
        scope: &Scope,
        cluster: Cluster,
        kind: LockKind,
        event: ClusterEvent,
        change: ClusterChange,
    ) -> Result<Cluster> {
        let engine = self.engine()?;
        // Refused at once when the status does not allow it, before the lock is even asked.
        cluster_transition(cluster.status, event).map_err(Error::conflict_from)?;
        let holder = self.take_lock(&cluster.id, kind).await?;
        let started = async {
            let mut cluster = self.get_cluster(scope, &cluster.id).await?;
            if change == ClusterChange::Delete && cluster.protected {
                return Err(Error::conflict(format!(
                    "cluster {} is protected: turn protection off before deleting it",
                    cluster.id
                )));
            }
            cluster.status =
                cluster_transition(cluster.status, event).map_err(Error::conflict_from)?;
            self.inner()
                .store
                .patch_cluster(&cluster.id, &ClusterPatch::status(cluster.status))
                .await?;
            Ok(cluster)
        }
        .await;
        let cluster = match started {
            Ok(cluster) => cluster,
            Err(error) => {
                self.release(&cluster.id, &holder).await;
                return Err(error);
            }
        };
        tracing::info!(cluster.id = %cluster.id, change = ?change, "cluster change started");
        let services = self.clone();
        let changed = cluster.clone();
        self.spawn(async move {
            let outcome = engine.apply(&changed, &change).await;
            let done = if change == ClusterChange::Delete {
                ClusterEvent::DeleteFinished
            } else {
                ClusterEvent::ChangeFinished
            };
            let patch = match outcome {
                Ok(()) => ClusterPatch {
                    status: cluster_transition(changed.status, done).ok(),
                    ..record_change(&change)
                },
                Err(error) => {
                    services
                        .raise(Notification {
                            scope: Some(crate::scope::Place {
                                organization_id: changed.organization_id.clone(),
                                project_id: changed.project_id.clone(),
                            }),
                            category: "cluster-change-failed",
                            subject: format!("Change to cluster {} failed", changed.description),
                            message: format!(
                                "{:?} of cluster {} failed: {error}",
                                change, changed.id
                            ),
                            resource_id: changed.id.to_string(),
                        })
                        .await;
                    // The change did not happen: the cluster stays as it was (a deletion stays
                    // `deleting` and is retried by the maintenance sweep).
                    if change == ClusterChange::Delete {
                        ClusterPatch::default()
                    } else {
                        ClusterPatch::status(ClusterStatus::Available)
                    }
                }
            };
            if patch != ClusterPatch::default() {
                if let Err(error) = services
                    .inner()
                    .store
                    .patch_cluster(&changed.id, &patch)
                    .await
                {
                    tracing::error!(%error, "could not record the end of a cluster change");
                }
            }
            services.release(&changed.id, &holder).await;
        });
        Ok(cluster)
    }
}

impl Services {
    /// Tells the project that a new cluster is defunct: a failed restore when it was made from
    /// a backup, else failed provisioning.
    async fn announce_defunct(&self, cluster: &Cluster, reason: &str) {
        let (category, subject, made) = match &cluster.source_backup_id {
            Some(backup) => (
                "restore-failed",
                format!("Restore into cluster {} failed", cluster.description),
                format!(" (restored from backup {backup})"),
            ),
            None => (
                "provisioning-failed",
                format!("Cluster {} could not be provisioned", cluster.description),
                String::new(),
            ),
        };
        self.raise(Notification {
            scope: Some(crate::scope::Place {
                organization_id: cluster.organization_id.clone(),
                project_id: cluster.project_id.clone(),
            }),
            category,
            subject,
            message: format!("Cluster {}{made} is defunct: {reason}", cluster.id),
            resource_id: cluster.id.to_string(),
        })
        .await;
    }

    /// A cluster whose operation's instance died: provisioning becomes defunct, a change in
    /// progress returns to available (the engine's own state is the truth of what happened),
    /// and a deletion is carried out again (left `deleting` if it still fails).
    pub(crate) async fn settle_interrupted_cluster(&self, mut cluster: Cluster) -> Result<()> {
        let from = cluster.status;
        if from == ClusterStatus::Deleting {
            let Some(engine) = &self.inner().engine else {
                return Ok(());
            };
            if let Err(error) = engine.apply(&cluster, &ClusterChange::Delete).await {
                tracing::warn!(cluster.id = %cluster.id, %error, "deletion still fails; retried on the next sweep");
                return Ok(());
            }
        }
        cluster.status =
            cluster_transition(from, ClusterEvent::Interrupted).map_err(Error::conflict_from)?;
        tracing::warn!(cluster.id = %cluster.id, from = from.as_str(), to = cluster.status.as_str(), "settled a cluster left mid-operation");
        self.inner()
            .store
            .patch_cluster(&cluster.id, &ClusterPatch::status(cluster.status))
            .await?;
        if from == ClusterStatus::Provisioning {
            self.announce_defunct(&cluster, "Cairn stopped while it was being made")
                .await;
        }
        Ok(())
    }
}
