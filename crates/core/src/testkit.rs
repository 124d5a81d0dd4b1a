//! Test doubles for the ports: an in-memory [`Store`] and a [`Clock`] that only moves when
//! told. Compiled for this crate's tests and, with the `testkit` feature, for other crates'.

use crate::clock::Clock;
use crate::error::Result;
use crate::ports::Store;
use crate::site::SeedPlan;
use async_trait::async_trait;
use cairn_model::{
    Cluster, ClusterStatus, Network, NetworkStatus, Organization, OrganizationId, Project,
    ProjectId,
};
use chrono::{DateTime, Duration, Utc};
use std::sync::Mutex;

/// A clock that stands still until advanced.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// Panics on a malformed time: it is a test's literal.
    pub fn at(rfc3339: &str) -> Self {
        Self(Mutex::new(rfc3339.parse().expect("an RFC 3339 time")))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// Keeps everything in vectors, in insertion order (which is creation order in tests).
#[derive(Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    organizations: Vec<Organization>,
    projects: Vec<Project>,
    networks: Vec<Network>,
    clusters: Vec<Cluster>,
}

#[async_trait]
impl Store for InMemoryStore {
    async fn organizations(&self) -> Result<Vec<Organization>> {
        Ok(self.state.lock().unwrap().organizations.clone())
    }

    async fn projects(&self, organization: &OrganizationId) -> Result<Vec<Project>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .projects
            .iter()
            .filter(|p| &p.organization_id == organization)
            .cloned()
            .collect())
    }

    async fn networks(&self, project: &ProjectId) -> Result<Vec<Network>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .networks
            .iter()
            .filter(|n| &n.project_id == project && n.status != NetworkStatus::Deleted)
            .cloned()
            .collect())
    }

    async fn clusters(&self, project: &ProjectId) -> Result<Vec<Cluster>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .clusters
            .iter()
            .filter(|c| &c.project_id == project && c.status != ClusterStatus::Deleted)
            .cloned()
            .collect())
    }

    async fn apply_seed(&self, plan: &SeedPlan) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state.organizations.extend(plan.organization.clone());
        state.projects.extend(plan.project.clone());
        state.networks.extend(plan.networks.iter().cloned());
        Ok(())
    }
}
