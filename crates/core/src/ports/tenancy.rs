//! Organizations, projects and their networks: the places everything else belongs to.

use crate::error::Result;
use crate::site::SeedPlan;
use async_trait::async_trait;
use cairn_model::{Grant, Network, NetworkId, Organization, OrganizationId, Project, ProjectId};

/// Organizations, projects and networks, and the site's seed of them.
#[async_trait]
pub trait TenancyStore: Send + Sync {
    /// Organizations, oldest first.
    async fn organizations(&self) -> Result<Vec<Organization>>;
    /// Inserts an organization and the grants that come with it (its creator's), together.
    async fn insert_organization(
        &self,
        organization: &Organization,
        grants: &[Grant],
    ) -> Result<()>;
    /// Removes an organization that has no projects left.
    async fn delete_organization(&self, id: &OrganizationId) -> Result<()>;
    /// Projects of one organization that are not deleted, oldest first.
    async fn projects(&self, organization: &OrganizationId) -> Result<Vec<Project>>;
    /// Marks a project deleted: it leaves the lists and is no longer found.
    async fn delete_project(&self, id: &ProjectId) -> Result<()>;
    /// Networks of one project that are not deleted, oldest first.
    async fn networks(&self, project: &ProjectId) -> Result<Vec<Network>>;
    /// Writes everything the plan creates in one transaction: all of it, or nothing.
    async fn apply_seed(&self, plan: &SeedPlan) -> Result<()>;
    async fn insert_project(&self, project: &Project) -> Result<()>;
    /// A network of the project, deleted ones included.
    async fn network(&self, project: &ProjectId, id: &NetworkId) -> Result<Option<Network>>;
    async fn insert_network(&self, network: &Network) -> Result<()>;
    /// Replaces the stored network with the same id.
    async fn update_network(&self, network: &Network) -> Result<()>;

    /// Renames an organization or project, or re-describes a network; `false` when no such id.
    async fn rename(&self, field: Renamable, id: &str, text: &str) -> Result<bool>;
}

/// The one text a resource has that can change without any other effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renamable {
    OrganizationName,
    ProjectName,
    NetworkDescription,
}
