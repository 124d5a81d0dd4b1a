//! Organizations, projects and networks. A network can only be in one of the site's regions
//! and under its provider (that is where the engine can run nodes); it is deleted only when no
//! cluster uses it. Every change is recorded in the audit: an organization's and its projects'
//! in the organization (for all its projects to read), a network's in its project.

use crate::audit::{Record, Subject};
use crate::error::{Error, Result};
use crate::ports::Renamable;
use crate::scope::{Actor, Place, Principal, Scope};
use crate::services::Services;
use cairn_model::audit::actions;
use cairn_model::{
    Network, NetworkId, NetworkStatus, Organization, OrganizationId, Permission, Project,
    ProjectId, ProjectRole,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A rename asked, in the audit's words (before it is known what it was called).
fn renamed_to(name: &str) -> String {
    format!("to {}", name.trim())
}

/// A network in the audit's words: "staging in local-2".
fn network_subject(network: &Network) -> Subject {
    let summary = format!("{} in {}", network.description, network.region);
    Subject::new("network", &network.id, summary)
}

/// "1 network", "3 clusters".
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Kurrent Cloud's create-network request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateNetworkRequest {
    pub provider: String,
    pub region: String,
    pub description: String,
    #[serde(default)]
    pub public_access: bool,
    #[serde(default)]
    pub cidr_block: Option<String>,
}

impl Services {
    /// The organizations the actor has some role in.
    pub async fn list_organizations(&self, by: &Actor) -> Result<Vec<Organization>> {
        let mut organizations = self.inner().store.organizations().await?;
        organizations.retain(|o| by.sees_organization(&o.id));
        Ok(organizations)
    }

    /// An organization the actor has some role in (others are not found).
    pub async fn get_organization(&self, by: &Actor, id: &OrganizationId) -> Result<Organization> {
        if !by.sees_organization(id) {
            return Err(Error::not_found("organization", id));
        }
        self.organization(id).await
    }

    pub(crate) async fn organization(&self, id: &OrganizationId) -> Result<Organization> {
        self.inner()
            .store
            .organizations()
            .await?
            .into_iter()
            .find(|o| &o.id == id)
            .ok_or_else(|| Error::not_found("organization", id))
    }

    /// Creates an organization (for admins of a whole organization); a person creating one
    /// is its admin from the same write. Recorded in the new organization; refused, in none
    /// (the site's: its actor reads it).
    pub async fn create_organization(&self, by: &Actor, name: &str) -> Result<Organization> {
        let subject = Subject::new("organization", "", name.trim());
        let record = Record::of(by, actions::ORGANIZATION_CREATE, subject);
        let work = self.creating_organization(by, name);
        self.audited_with(record, work, |organization, record| {
            let name = organization.name.clone();
            let subject = Subject::new("organization", &organization.id, name);
            record.within(&organization.id, None).about(subject)
        })
        .await
    }

    async fn creating_organization(&self, by: &Actor, name: &str) -> Result<Organization> {
        by.require_organization_maker()?;
        cairn_model::check_text("name", name, cairn_model::MAX_NAME_LEN)
            .map_err(|message| Error::invalid("name", message))?;
        let name = name.trim();
        let raw = self.inner().ids.next(self.inner().clock.as_ref());
        let organization = Organization {
            id: OrganizationId::from_raw(raw),
            name: name.to_owned(),
            created: raw.time(),
        };
        let grants: Vec<cairn_model::Grant> = by
            .person()
            .map(|person| cairn_model::Grant {
                user_id: person.user.id.clone(),
                organization_id: organization.id.clone(),
                project_id: None,
                role: cairn_model::Role::Admin,
            })
            .into_iter()
            .collect();
        // Its creator's new role counts from their next call on.
        let _writing = self.inner().access_checks.writing();
        self.inner()
            .store
            .insert_organization(&organization, &grants)
            .await?;
        Ok(organization)
    }

    /// Deletes an organization that has no projects (organization admin).
    pub async fn delete_organization(&self, by: &Actor, id: &OrganizationId) -> Result<()> {
        let subject = Subject::new("organization", id, "");
        let record = Record::of(by, actions::ORGANIZATION_DELETE, subject).within(id, None);
        let work = self.deleting_organization(by, id);
        self.audited(record, work, |organization, _| {
            Subject::new("organization", id, organization.name.clone())
        })
        .await?;
        Ok(())
    }

    /// Deletes it; answers it as it was.
    async fn deleting_organization(&self, by: &Actor, id: &OrganizationId) -> Result<Organization> {
        by.require_organization_admin(id)?;
        let organization = self.organization(id).await?;
        let projects = self.inner().store.projects(id).await?;
        if !projects.is_empty() {
            return Err(Error::conflict(format!(
                "organization {id} still has {}: delete {} first",
                count(projects.len(), "project"),
                if projects.len() == 1 { "it" } else { "them" }
            )));
        }
        self.inner().store.delete_organization(id).await?;
        Ok(organization)
    }

    /// The scope's project.
    pub async fn get_project(&self, scope: &Scope) -> Result<Project> {
        scope.require(Permission::Read)?;
        self.project_of(&scope.organization_id, &scope.project_id)
            .await
    }

    /// A project, checked to be the organization's.
    pub(crate) async fn project_of(
        &self,
        organization: &OrganizationId,
        id: &ProjectId,
    ) -> Result<Project> {
        self.inner()
            .store
            .projects(organization)
            .await?
            .into_iter()
            .find(|p| &p.id == id)
            .ok_or_else(|| Error::not_found("project", id))
    }

    /// Deletes a project that holds nothing alive (no networks, clusters, backups or jobs);
    /// for organization admins. The project the console works in cannot be deleted.
    pub async fn delete_project(&self, by: &Actor, place: &Place, console: &Place) -> Result<()> {
        let subject = Subject::new("project", &place.project_id, "");
        let record =
            Record::of(by, actions::PROJECT_DELETE, subject).within(&place.organization_id, None);
        let work = self.deleting_project(by, place, console);
        self.audited(record, work, |project, _| {
            Subject::new("project", &project.id, project.name.clone())
        })
        .await?;
        Ok(())
    }

    /// Deletes it; answers it as it was.
    async fn deleting_project(
        &self,
        by: &Actor,
        place: &Place,
        console: &Place,
    ) -> Result<Project> {
        let (organization, id) = (&place.organization_id, &place.project_id);
        if by.role_in(organization, id).is_none() {
            return Err(Error::not_found("project", id));
        }
        by.require_organization_admin(organization)?;
        let project = self.project_of(organization, id).await?;
        if &console.project_id == id {
            return Err(Error::conflict(format!(
                "project {id} is where this console works and cannot be deleted"
            )));
        }
        let store = &self.inner().store;
        let held = [
            count(store.networks(id).await?.len(), "network"),
            count(store.clusters(id).await?.len(), "cluster"),
            count(store.backups(id).await?.len(), "backup"),
            count(store.jobs(id).await?.len(), "job"),
        ];
        let held: Vec<_> = held.into_iter().filter(|h| !h.starts_with("0 ")).collect();
        if !held.is_empty() {
            return Err(Error::conflict(format!(
                "project {} still has {}: delete them first",
                project.id,
                held.join(", ")
            )));
        }
        store.delete_project(id).await?;
        Ok(project)
    }

    /// The organization's projects the actor has a role in.
    pub async fn list_projects(
        &self,
        by: &Actor,
        organization: &OrganizationId,
    ) -> Result<Vec<Project>> {
        self.get_organization(by, organization).await?;
        let mut projects = self.inner().store.projects(organization).await?;
        projects.retain(|p| by.role_in(organization, &p.id).is_some());
        Ok(projects)
    }

    /// Every project the person has a role in, organization by organization (in the order
    /// they were made), with that role: what the console's project switcher lists.
    pub async fn projects_of(&self, principal: &Principal) -> Result<Vec<ProjectRole>> {
        let store = &self.inner().store;
        let mut found = Vec::new();
        for organization in store.organizations().await? {
            if !principal.sees_organization(&organization.id) {
                continue;
            }
            for project in store.projects(&organization.id).await? {
                if let Some(role) = principal.role_in(&organization.id, &project.id) {
                    found.push(ProjectRole {
                        organization: organization.clone(),
                        project,
                        role,
                    });
                }
            }
        }
        Ok(found)
    }

    /// The project a person's request works in, found from its id alone (the console's
    /// addresses name only the project). A named project is looked for where the person's
    /// grants reach: one they have no role in is not found, as everywhere. With none named,
    /// their first project: `default` (the console's own) when they have a role there, else
    /// the first one they have a role in, else `default` (where they are then refused).
    /// Whether the role allows what the request needs is [`Services::authorize`]'s to say.
    pub async fn place_for(
        &self,
        principal: &Principal,
        named: Option<&ProjectId>,
        default: &Place,
    ) -> Result<Place> {
        let place = |organization_id: OrganizationId, project_id: ProjectId| Place {
            organization_id,
            project_id,
        };
        let Some(project) = named else {
            if principal
                .role_in(&default.organization_id, &default.project_id)
                .is_some()
            {
                return Ok(default.clone());
            }
            let first = self.projects_of(principal).await?.into_iter().next();
            return Ok(first.map_or_else(
                || default.clone(),
                |p| place(p.organization.id, p.project.id),
            ));
        };
        if project == &default.project_id {
            return Ok(default.clone());
        }
        // A grant of this very project names its organization (no read needed).
        if let Some(grant) = principal
            .grants
            .iter()
            .find(|g| g.project_id.as_ref() == Some(project))
        {
            return Ok(place(grant.organization_id.clone(), project.clone()));
        }
        // An organization-wide grant covers it when it is one of that organization's.
        let mut organizations: Vec<&OrganizationId> = principal
            .grants
            .iter()
            .filter(|g| g.project_id.is_none())
            .map(|g| &g.organization_id)
            .collect();
        organizations.dedup();
        for organization in organizations {
            let projects = self.inner().store.projects(organization).await?;
            if projects.iter().any(|p| &p.id == project) {
                return Ok(place(organization.clone(), project.clone()));
            }
        }
        Err(Error::not_found("project", project))
    }

    /// Creates a project (organization admin).
    pub async fn create_project(
        &self,
        by: &Actor,
        organization: &OrganizationId,
        name: &str,
    ) -> Result<Project> {
        let subject = Subject::new("project", "", name.trim());
        let record = Record::of(by, actions::PROJECT_CREATE, subject).within(organization, None);
        let work = self.creating_project(by, organization, name);
        self.audited(record, work, |project, subject| {
            subject.with_id(&project.id)
        })
        .await
    }

    async fn creating_project(
        &self,
        by: &Actor,
        organization: &OrganizationId,
        name: &str,
    ) -> Result<Project> {
        by.require_organization_admin(organization)?;
        cairn_model::check_text("name", name, cairn_model::MAX_NAME_LEN)
            .map_err(|message| Error::invalid("name", message))?;
        let name = name.trim();
        self.organization(organization).await?;
        let raw = self.inner().ids.next(self.inner().clock.as_ref());
        let project = Project {
            id: ProjectId::from_raw(raw),
            organization_id: organization.clone(),
            name: name.to_owned(),
            created: raw.time(),
        };
        self.inner().store.insert_project(&project).await?;
        Ok(project)
    }

    /// Renames an organization (organization admin).
    pub async fn rename_organization(
        &self,
        by: &Actor,
        id: &OrganizationId,
        name: &str,
    ) -> Result<()> {
        let subject = Subject::new("organization", id, renamed_to(name));
        let record = Record::of(by, actions::ORGANIZATION_RENAME, subject).within(id, None);
        let work = async {
            by.require_organization_admin(id)?;
            let before = self.organization(id).await?;
            self.rename(
                Renamable::OrganizationName,
                "organization",
                id.as_str(),
                "name",
                name,
            )
            .await?;
            Ok(before.name)
        };
        self.audited(record, work, |before, _| {
            Subject::new("organization", id, format!("{before} → {}", name.trim()))
        })
        .await?;
        Ok(())
    }

    /// Renames the scope's project (project admin). Recorded in its organization, with the
    /// organization's other changes to its projects.
    pub async fn rename_project(&self, scope: &Scope, name: &str) -> Result<()> {
        let id = &scope.project_id;
        let subject = Subject::new("project", id, renamed_to(name));
        let record = Record::in_scope(scope, actions::PROJECT_RENAME, subject)
            .within(&scope.organization_id, None);
        let work = async {
            scope.require(Permission::Administer)?;
            let before = self.project_of(&scope.organization_id, id).await?;
            self.rename(Renamable::ProjectName, "project", id.as_str(), "name", name)
                .await?;
            Ok(before.name)
        };
        self.audited(record, work, |before, _| {
            Subject::new("project", id, format!("{before} → {}", name.trim()))
        })
        .await?;
        Ok(())
    }

    /// Changes a network's description.
    pub async fn describe_network(
        &self,
        scope: &Scope,
        id: &NetworkId,
        description: &str,
    ) -> Result<()> {
        let subject = Subject::new("network", id, renamed_to(description));
        let record = Record::in_scope(scope, actions::NETWORK_UPDATE, subject);
        let work = async {
            scope.require(Permission::Operate)?;
            let before = self.get_network(scope, id).await?;
            self.rename(
                Renamable::NetworkDescription,
                "network",
                id.as_str(),
                "description",
                description,
            )
            .await?;
            Ok(before.description)
        };
        self.audited(record, work, |before, _| {
            let after = description.trim();
            Subject::new("network", id, format!("{before} → {after}"))
        })
        .await?;
        Ok(())
    }

    async fn rename(
        &self,
        what: Renamable,
        noun: &'static str,
        id: &str,
        field: &str,
        text: &str,
    ) -> Result<()> {
        // The same rule as the create of each: an edit cannot store what a create refuses.
        let max = match what {
            Renamable::OrganizationName | Renamable::ProjectName => cairn_model::MAX_NAME_LEN,
            Renamable::NetworkDescription => cairn_model::text::MAX_DESCRIPTION_LEN,
        };
        cairn_model::check_text(field, text, max)
            .map_err(|message| Error::invalid(field, message))?;
        let text = text.trim();
        if self.inner().store.rename(what, id, text).await? {
            Ok(())
        } else {
            Err(Error::not_found(noun, id))
        }
    }

    pub async fn get_network(&self, scope: &Scope, id: &NetworkId) -> Result<Network> {
        scope.require(Permission::Read)?;
        self.inner()
            .store
            .network(&scope.project_id, id)
            .await?
            .ok_or_else(|| Error::not_found("network", id))
    }

    pub async fn create_network(
        &self,
        scope: &Scope,
        request: &CreateNetworkRequest,
    ) -> Result<Network> {
        let summary = format!("{} in {}", request.description.trim(), request.region);
        let record = Record::in_scope(
            scope,
            actions::NETWORK_CREATE,
            Subject::new("network", "", summary),
        );
        let work = self.creating_network(scope, request);
        self.audited(record, work, |network, _| network_subject(network))
            .await
    }

    async fn creating_network(
        &self,
        scope: &Scope,
        request: &CreateNetworkRequest,
    ) -> Result<Network> {
        scope.require(Permission::Operate)?;
        let site = self.site();
        let mut errors = BTreeMap::new();
        if request.provider != site.provider {
            errors.insert(
                "provider".to_owned(),
                format!("this site's provider is '{}'", site.provider),
            );
        }
        if !site.regions.contains(&request.region) {
            errors.insert(
                "region".to_owned(),
                format!(
                    "unknown region '{}': use {}",
                    request.region,
                    site.regions.join(", ")
                ),
            );
        }
        if let Err(message) = cairn_model::check_text(
            "description",
            &request.description,
            cairn_model::text::MAX_DESCRIPTION_LEN,
        ) {
            errors.insert("description".to_owned(), message);
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let raw = self.inner().ids.next(self.inner().clock.as_ref());
        let network = Network {
            id: NetworkId::from_raw(raw),
            project_id: scope.project_id.clone(),
            provider: request.provider.clone(),
            region: request.region.clone(),
            description: request.description.trim().to_owned(),
            public_access: request.public_access,
            cidr_block: request.cidr_block.clone(),
            status: NetworkStatus::Available,
            created: raw.time(),
        };
        self.inner().store.insert_network(&network).await?;
        Ok(network)
    }

    /// Deletes a network no cluster uses (soft: it stays readable by id).
    pub async fn delete_network(&self, scope: &Scope, id: &NetworkId) -> Result<Network> {
        let record = Record::in_scope(
            scope,
            actions::NETWORK_DELETE,
            Subject::new("network", id, ""),
        );
        let work = self.deleting_network(scope, id);
        self.audited(record, work, |network, _| network_subject(network))
            .await
    }

    async fn deleting_network(&self, scope: &Scope, id: &NetworkId) -> Result<Network> {
        scope.require(Permission::Operate)?;
        let mut network = self.get_network(scope, id).await?;
        if network.status == NetworkStatus::Deleted {
            return Err(Error::conflict(format!("network {id} is already deleted")));
        }
        let users: Vec<_> = self
            .inner()
            .store
            .clusters(&scope.project_id)
            .await?
            .into_iter()
            .filter(|c| &c.network_id == id)
            .map(|c| c.id.to_string())
            .collect();
        if !users.is_empty() {
            return Err(Error::conflict(format!(
                "network {id} is used by cluster{} {}: delete {} first",
                if users.len() == 1 { "" } else { "s" },
                users.join(", "),
                if users.len() == 1 { "it" } else { "them" }
            )));
        }
        network.status = NetworkStatus::Deleted;
        self.inner().store.update_network(&network).await?;
        Ok(network)
    }
}

#[cfg(test)]
mod tests;
