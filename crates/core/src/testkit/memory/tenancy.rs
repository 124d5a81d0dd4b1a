//! Organizations, projects and networks, in memory.

use super::InMemoryStore;
use crate::error::Result;
use crate::ports::{Renamable, TenancyStore};
use crate::site::SeedPlan;
use async_trait::async_trait;
use cairn_model::{
    Grant, Network, NetworkId, NetworkStatus, Organization, OrganizationId, Project, ProjectId,
};

#[async_trait]
impl TenancyStore for InMemoryStore {
    async fn organizations(&self) -> Result<Vec<Organization>> {
        Ok(self.state.lock().unwrap().organizations.clone())
    }

    async fn insert_organization(
        &self,
        organization: &Organization,
        grants: &[Grant],
    ) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state.organizations.push(organization.clone());
        state.grants.extend_from_slice(grants);
        Ok(())
    }

    async fn delete_organization(&self, id: &OrganizationId) -> Result<()> {
        self.state
            .lock()
            .unwrap()
            .organizations
            .retain(|o| &o.id != id);
        Ok(())
    }

    async fn projects(&self, organization: &OrganizationId) -> Result<Vec<Project>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .projects
            .iter()
            .filter(|p| {
                &p.organization_id == organization && !state.deleted_projects.contains(&p.id)
            })
            .cloned()
            .collect())
    }

    async fn delete_project(&self, id: &ProjectId) -> Result<()> {
        self.state
            .lock()
            .unwrap()
            .deleted_projects
            .insert(id.clone());
        Ok(())
    }

    async fn networks(&self, project: &ProjectId) -> Result<Vec<Network>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .networks
            .rows
            .iter()
            .filter(|n| &n.project_id == project && n.status != NetworkStatus::Deleted)
            .cloned()
            .collect())
    }

    async fn apply_seed(&self, plan: &SeedPlan) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state.organizations.extend(plan.organization.clone());
        state.projects.extend(plan.project.clone());
        for network in &plan.networks {
            state.networks.insert(network.id.clone(), network.clone());
        }
        Ok(())
    }

    async fn insert_project(&self, project: &Project) -> Result<()> {
        self.state.lock().unwrap().projects.push(project.clone());
        Ok(())
    }

    async fn network(&self, project: &ProjectId, id: &NetworkId) -> Result<Option<Network>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .networks
            .get(id)
            .filter(|n| &n.project_id == project)
            .cloned())
    }

    async fn insert_network(&self, network: &Network) -> Result<()> {
        self.state
            .lock()
            .unwrap()
            .networks
            .insert(network.id.clone(), network.clone());
        Ok(())
    }

    async fn update_network(&self, network: &Network) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state.networks.replace(
            &network.id,
            network.clone(),
            "network",
            network.id.to_string(),
        )
    }

    async fn rename(&self, field: Renamable, id: &str, text: &str) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        let found = match field {
            Renamable::OrganizationName => state
                .organizations
                .iter_mut()
                .find(|o| o.id.as_str() == id)
                .map(|o| o.name = text.to_owned()),
            Renamable::ProjectName => state
                .projects
                .iter_mut()
                .find(|p| p.id.as_str() == id)
                .map(|p| p.name = text.to_owned()),
            Renamable::NetworkDescription => NetworkId::parse(id)
                .ok()
                .and_then(|id| state.networks.get_mut(&id))
                .map(|n| n.description = text.to_owned()),
        };
        Ok(found.is_some())
    }
}
