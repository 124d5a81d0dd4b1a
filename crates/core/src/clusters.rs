//! Clusters: create (and restore, which is a create from a backup), provisioned in the
//! background by the engine: `provisioning → available | defunct`.

use crate::error::{Error, Result};
use crate::lifecycle::{cluster_transition, ClusterEvent};
use crate::ports::Notification;
use crate::services::{Scope, Services};
use cairn_model::{
    check_cluster_request, check_restore, server_versions, Backup, BackupStatus, Cluster,
    ClusterAddresses, ClusterHealth, ClusterId, ClusterStatus, CreateClusterRequest,
};

impl Services {
    /// Creates a cluster; with `sourceBackupId`, restores that backup into it. Every broken
    /// rule comes back at once as a field error. Answers with the cluster as `provisioning`.
    pub async fn create_cluster(
        &self,
        scope: &Scope,
        request: &CreateClusterRequest,
    ) -> Result<Cluster> {
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
            disk_type: request.disk_type.clone(),
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
        tracing::info!(cluster.id = %cluster.id, restore.from = ?cluster.source_backup_id, "provisioning cluster");

        let services = self.clone();
        let provisioning = cluster.clone();
        self.spawn(async move {
            let outcome = engine.provision(&provisioning, source.as_ref()).await;
            if let Err(error) = services.finish_provisioning(provisioning, outcome).await {
                tracing::error!(%error, "could not record the end of provisioning");
            }
        });
        Ok(cluster)
    }

    /// The backup a restore names, looked up in its project (which must belong to the caller's
    /// organization). A backup being deleted is a conflict, not a field error.
    async fn find_restorable(
        &self,
        scope: &Scope,
        request: &CreateClusterRequest,
        id: &cairn_model::BackupId,
    ) -> Result<Option<Backup>> {
        let store = &self.inner().store;
        let project = request
            .source_backup_project_id
            .clone()
            .unwrap_or_else(|| scope.project_id.clone());
        let in_organization = store
            .projects(&scope.organization_id)
            .await?
            .iter()
            .any(|p| p.id == project);
        if !in_organization {
            return Ok(None);
        }
        let backup = store.backup(&project, id).await?;
        if let Some(b) = &backup {
            if b.status == BackupStatus::Deleting {
                return Err(Error::Conflict(format!(
                    "backup {id} is being deleted and cannot be restored"
                )));
            }
        }
        Ok(backup)
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
        cluster.status = cluster_transition(cluster.status, event)
            .map_err(|e| Error::Conflict(e.to_string()))?;
        match outcome {
            Ok(addresses) => {
                cluster.addresses = addresses;
                self.inner().store.update_cluster(&cluster).await?;
                tracing::info!(cluster.id = %cluster.id, "cluster available");
            }
            Err(error) => {
                cluster.health = ClusterHealth::Down;
                self.inner().store.update_cluster(&cluster).await?;
                self.inner()
                    .notifier
                    .notify(Notification {
                        subject: format!(
                            "Cluster {} could not be provisioned",
                            cluster.description
                        ),
                        message: format!("Cluster {} is defunct: {error}", cluster.id),
                        resource_id: cluster.id.to_string(),
                    })
                    .await;
            }
        }
        Ok(())
    }

    pub async fn get_cluster(&self, scope: &Scope, id: &ClusterId) -> Result<Cluster> {
        self.inner()
            .store
            .cluster(&scope.project_id, id)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "cluster",
                id: id.to_string(),
            })
    }
}
