//! The ports the core needs from the outside world. Adapters live in other crates
//! (`cairn-store` for the database); test doubles live in [`crate::testkit`].

use crate::error::Result;
use crate::site::SeedPlan;
use async_trait::async_trait;
use cairn_model::{Cluster, Network, Organization, OrganizationId, Project, ProjectId};

/// Persistent state. Every read is scoped to its parent so ids of another project are not found.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Organizations, oldest first.
    async fn organizations(&self) -> Result<Vec<Organization>>;
    /// Projects of one organization, oldest first.
    async fn projects(&self, organization: &OrganizationId) -> Result<Vec<Project>>;
    /// Networks of one project that are not deleted, oldest first.
    async fn networks(&self, project: &ProjectId) -> Result<Vec<Network>>;
    /// Clusters of one project that are not deleted, oldest first.
    async fn clusters(&self, project: &ProjectId) -> Result<Vec<Cluster>>;
    /// Writes everything the plan creates in one transaction: all of it, or nothing.
    async fn apply_seed(&self, plan: &SeedPlan) -> Result<()>;
}
