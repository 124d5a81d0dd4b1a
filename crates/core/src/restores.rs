//! Restores across the projects of an organization: which backup a restore names, what the
//! restore form may offer, and where a restored cluster came from.
//!
//! A restore creates its cluster in the scope's project (the target). The backup may be in
//! another project of the same organization — named by `sourceBackupProjectId`, or, as Kurrent
//! Cloud's API does it, by its id alone — and then the actor must be able to operate there
//! too: a restore copies the backup's data out of its project. A project of another
//! organization is refused, naming the field.

use crate::error::{Error, Result};
use crate::scope::{Actor, Scope};
use crate::services::Services;
use cairn_model::{
    Backup, BackupId, BackupStatus, Cluster, CreateClusterRequest, OrganizationId, Permission,
    Project, ProjectId, RestoreChoices, RestoredFrom,
};

impl Services {
    /// The backup a restore names, looked up in its project (which must belong to the
    /// caller's organization); `None` when there is no such backup there. A backup being
    /// deleted is a conflict, not a field error.
    pub(crate) async fn find_restorable(
        &self,
        scope: &Scope,
        request: &CreateClusterRequest,
        id: &BackupId,
    ) -> Result<Option<Backup>> {
        let store = &self.inner().store;
        let backup = match &request.source_backup_project_id {
            Some(project) if project != &scope.project_id => {
                self.source_project(scope, project).await?;
                store.backup(project, id).await?
            }
            _ => match store.backup(&scope.project_id, id).await? {
                Some(backup) => Some(backup),
                None => self.backup_elsewhere(scope, id).await?,
            },
        };
        if let Some(b) = &backup {
            if b.status == BackupStatus::Deleting {
                return Err(Error::conflict(format!(
                    "backup {id} is being deleted and cannot be restored"
                )));
            }
        }
        Ok(backup)
    }

    /// Checks that a restore may read backups of `project`: a project of the scope's
    /// organization where the actor may operate. One the actor has no role in is not found;
    /// one they know to be another organization's is refused naming the field.
    async fn source_project(&self, scope: &Scope, project: &ProjectId) -> Result<()> {
        let organization = &scope.organization_id;
        let in_organization = self
            .inner()
            .store
            .projects(organization)
            .await?
            .iter()
            .any(|p| &p.id == project);
        if !in_organization {
            return match self.organization_of(scope.actor(), project).await? {
                Some(other) => Err(Error::invalid(
                    "sourceBackupProjectId",
                    format!(
                        "project {project} is in organization {other}, not {organization}: a backup is restored only into a project of its own organization"
                    ),
                )),
                None => Err(Error::not_found("project", project)),
            };
        }
        // Restoring a backup of another project copies its data out: the actor must be able
        // to operate there too (a project they have no role in is not found).
        scope.elsewhere(project, Permission::Operate).map(|_| ())
    }

    /// A backup named by id alone (Kurrent Cloud's request has no project for it) that is
    /// not in the scope's project: looked for in the organization's other projects where the
    /// actor has a role, and then it must be theirs to operate on. One found in a project of
    /// another organization the actor can see is refused naming the field.
    async fn backup_elsewhere(&self, scope: &Scope, id: &BackupId) -> Result<Option<Backup>> {
        let store = &self.inner().store;
        let organization = &scope.organization_id;
        for project in store.projects(organization).await? {
            if project.id == scope.project_id
                || scope.actor().role_in(organization, &project.id).is_none()
            {
                continue;
            }
            if let Some(backup) = store.backup(&project.id, id).await? {
                scope.elsewhere(&project.id, Permission::Operate)?;
                return Ok(Some(backup));
            }
        }
        for (other, project) in self.visible_projects(scope.actor()).await? {
            if &other == organization {
                continue;
            }
            if store.backup(&project.id, id).await?.is_some() {
                return Err(Error::invalid(
                    "sourceBackupId",
                    format!(
                        "backup {id} is in organization {other}, not {organization}: a backup is restored only into a project of its own organization"
                    ),
                ));
            }
        }
        Ok(None)
    }

    /// Every project the actor has a role in, with its organization's id.
    async fn visible_projects(&self, actor: &Actor) -> Result<Vec<(OrganizationId, Project)>> {
        let store = &self.inner().store;
        let mut found = Vec::new();
        for organization in store.organizations().await? {
            if !actor.sees_organization(&organization.id) {
                continue;
            }
            for project in store.projects(&organization.id).await? {
                if actor.role_in(&organization.id, &project.id).is_some() {
                    found.push((organization.id.clone(), project));
                }
            }
        }
        Ok(found)
    }

    /// The organization of a project the actor has a role in (`None`: no such project for
    /// them, which reveals nothing about projects they have no role in).
    async fn organization_of(
        &self,
        actor: &Actor,
        project: &ProjectId,
    ) -> Result<Option<OrganizationId>> {
        Ok(self
            .visible_projects(actor)
            .await?
            .into_iter()
            .find(|(_, p)| &p.id == project)
            .map(|(organization, _)| organization))
    }

    /// What the restore form offers for a backup of the scope's project: the projects of the
    /// organization where the actor may create clusters, the target (`target`, or the
    /// backup's own project), and the target's networks. A target the actor may not create
    /// clusters in is refused as any other project is (not found, or forbidden).
    pub async fn restore_choices(
        &self,
        scope: &Scope,
        id: &BackupId,
        target: Option<&ProjectId>,
    ) -> Result<RestoreChoices> {
        scope.require(Permission::Read)?;
        let backup = self.get_backup(scope, id).await?;
        let store = &self.inner().store;
        let organization = &scope.organization_id;
        let projects = store.projects(organization).await?;
        let source = projects
            .iter()
            .find(|p| p.id == scope.project_id)
            .cloned()
            .ok_or_else(|| Error::not_found("project", &scope.project_id))?;
        let targets: Vec<Project> = projects
            .into_iter()
            .filter(|p| {
                scope
                    .actor()
                    .role_in(organization, &p.id)
                    .is_some_and(|role| role.allows(Permission::Operate))
            })
            .collect();
        let target = match target {
            Some(t) if t != &source.id => {
                scope.elsewhere(t, Permission::Operate)?;
                targets
                    .iter()
                    .find(|p| &p.id == t)
                    .cloned()
                    .ok_or_else(|| Error::not_found("project", t))?
            }
            _ => source.clone(),
        };
        let networks = store.networks(&target.id).await?;
        Ok(RestoreChoices {
            backup,
            source,
            targets,
            target,
            networks,
        })
    }

    /// Where a restored cluster of the scope's project came from: its backup, found in the
    /// cluster's project or in another project of the organization the reader has a role in
    /// (else only its id is told).
    pub(crate) async fn restored_from(
        &self,
        scope: &Scope,
        cluster: &Cluster,
    ) -> Result<Option<RestoredFrom>> {
        let Some(id) = &cluster.source_backup_id else {
            return Ok(None);
        };
        let store = &self.inner().store;
        let organization = &scope.organization_id;
        let mut projects = store.projects(organization).await?;
        // The cluster's own project first: most restores stay where their backup is.
        projects.sort_by_key(|p| p.id != scope.project_id);
        for project in projects {
            if scope.actor().role_in(organization, &project.id).is_none() {
                continue;
            }
            if let Some(backup) = store.backup(&project.id, id).await? {
                return Ok(Some(RestoredFrom {
                    backup_id: id.clone(),
                    label: Some(backup.description),
                    project_id: Some(project.id),
                    project_name: Some(project.name),
                }));
            }
        }
        Ok(Some(RestoredFrom {
            backup_id: id.clone(),
            label: None,
            project_id: None,
            project_name: None,
        }))
    }
}

#[cfg(test)]
mod tests;
