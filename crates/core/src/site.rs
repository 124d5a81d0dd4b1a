//! What a site (one Cairn installation) offers, and what first start creates from it.

use crate::clock::Clock;
use crate::ids::IdGenerator;
use cairn_model::{
    Network, NetworkId, NetworkStatus, Organization, OrganizationId, Project, ProjectId,
    DEFAULT_REGIONS, LOCAL_PROVIDER,
};

/// The site's provider and regions, and the names of the tenancy that first start creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteConfig {
    /// Provider label of this site's machines (`local` unless the operator says where they are).
    pub provider: String,
    /// Regions of the embedded engine: each gets a network in the default project.
    pub regions: Vec<String>,
    pub organization_name: String,
    pub project_name: String,
}

impl Default for SiteConfig {
    fn default() -> Self {
        Self {
            provider: LOCAL_PROVIDER.to_owned(),
            regions: DEFAULT_REGIONS.iter().map(|r| r.to_string()).collect(),
            organization_name: "Cairn".to_owned(),
            project_name: "Default project".to_owned(),
        }
    }
}

/// What is missing from the store for the site's defaults to exist. Computed from what is
/// there (a pure function), shown or applied by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedPlan {
    pub organization: Option<Organization>,
    pub project: Option<Project>,
    pub networks: Vec<Network>,
}

/// What the store already holds that seeding depends on.
#[derive(Debug, Clone, Default)]
pub struct SeedState {
    pub organization: Option<Organization>,
    pub project: Option<Project>,
    pub networks: Vec<Network>,
}

impl SeedPlan {
    pub fn is_empty(&self) -> bool {
        self.organization.is_none() && self.project.is_none() && self.networks.is_empty()
    }

    /// Plans the default organization and project if there is none, and one network for
    /// every configured region that has none in the default project. Never touches what exists.
    pub fn compute(
        site: &SiteConfig,
        state: &SeedState,
        ids: &IdGenerator,
        clock: &dyn Clock,
    ) -> Self {
        let mut plan = SeedPlan::default();
        let organization_id = match &state.organization {
            Some(existing) => existing.id.clone(),
            None => {
                let raw = ids.next(clock);
                let organization = Organization {
                    id: OrganizationId::from_raw(raw),
                    name: site.organization_name.clone(),
                    created: raw.time(),
                };
                let id = organization.id.clone();
                plan.organization = Some(organization);
                id
            }
        };
        let project_id = match &state.project {
            Some(existing) => existing.id.clone(),
            None => {
                let raw = ids.next(clock);
                let project = Project {
                    id: ProjectId::from_raw(raw),
                    organization_id,
                    name: site.project_name.clone(),
                    created: raw.time(),
                };
                let id = project.id.clone();
                plan.project = Some(project);
                id
            }
        };
        for region in &site.regions {
            let served = state
                .networks
                .iter()
                .any(|n| &n.region == region && n.provider == site.provider);
            if served {
                continue;
            }
            let raw = ids.next(clock);
            plan.networks.push(Network {
                id: NetworkId::from_raw(raw),
                project_id: project_id.clone(),
                provider: site.provider.clone(),
                region: region.clone(),
                description: format!("{region} network"),
                public_access: false,
                cidr_block: None,
                status: NetworkStatus::Available,
                created: raw.time(),
            });
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::ManualClock;

    fn plan_for(site: &SiteConfig, state: &SeedState) -> SeedPlan {
        let clock = ManualClock::at("2026-01-01T00:00:00Z");
        SeedPlan::compute(site, state, &IdGenerator::new(), &clock)
    }

    #[test]
    fn an_empty_store_gets_an_organization_a_project_and_a_network_per_region() {
        let plan = plan_for(&SiteConfig::default(), &SeedState::default());
        let project = plan.project.expect("a project is planned");
        assert_eq!(
            project.organization_id,
            plan.organization.expect("an organization").id
        );
        let regions: Vec<_> = plan.networks.iter().map(|n| n.region.as_str()).collect();
        assert_eq!(regions, ["local-1", "local-2"]);
        assert!(plan.networks.iter().all(|n| n.project_id == project.id));
        assert!(plan.networks.iter().all(|n| n.provider == "local"));
    }

    #[test]
    fn a_seeded_store_needs_nothing_and_a_new_region_gets_only_its_network() {
        let first = plan_for(&SiteConfig::default(), &SeedState::default());
        let state = SeedState {
            organization: first.organization.clone(),
            project: first.project.clone(),
            networks: first.networks.clone(),
        };
        assert!(plan_for(&SiteConfig::default(), &state).is_empty());

        let mut grown = SiteConfig::default();
        grown.regions.push("local-3".into());
        let plan = plan_for(&grown, &state);
        assert!(plan.organization.is_none() && plan.project.is_none());
        assert_eq!(plan.networks.len(), 1);
        assert_eq!(plan.networks[0].region, "local-3");
        assert_eq!(plan.networks[0].project_id, state.project.unwrap().id);
    }
}
