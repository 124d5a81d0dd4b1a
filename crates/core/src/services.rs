//! The use cases, behind one cheap-to-clone facade that the console, the REST API and the
//! scheduler share.

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ids::IdGenerator;
use crate::ports::{Engine, LogNotifier, Notifier, Store};
use crate::site::{SeedPlan, SeedState, SiteConfig};
use cairn_model::Permission;
use cairn_model::{BackupId, Cluster, Network, OrganizationId, Progress, ProjectId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

pub use crate::scope::Scope;
use crate::scope::{Place, Principal};

#[derive(Clone)]
pub struct Services {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) engine: Option<Arc<dyn Engine>>,
    pub(crate) notifier: Arc<dyn Notifier>,
    pub(crate) ids: IdGenerator,
    pub(crate) site: SiteConfig,
    pub(crate) snapshot_deadline: Duration,
    /// Operations running in the background (snapshots, provisioning), awaited by `settle`.
    pub(crate) tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Progress of the snapshots this instance is taking.
    pub(crate) progress: Mutex<HashMap<BackupId, Progress>>,
    /// How to stop each snapshot this instance is taking (see `Services::cancel_backup`).
    pub(crate) cancels: Mutex<HashMap<BackupId, crate::held::Canceller>>,
    /// Recent lists of backups (see `Services::list_backups`).
    pub(crate) backup_lists: crate::held::BackupLists,
    /// Recent access-token checks (see `Services::access_principal`).
    pub(crate) access_checks: crate::held::AccessChecks,
    /// What monitoring counts (see `metrics.rs`).
    pub(crate) metrics: crate::held::MetricsState,
    /// Probed nodes and followed projects' pulses (see `live.rs`).
    pub(crate) live: crate::held::LiveState,
    /// Restore-test runs this instance is running now.
    pub(crate) restore_tests: Mutex<std::collections::HashSet<cairn_model::HistoryId>>,
    /// Backups this instance is verifying now.
    pub(crate) verifying: Mutex<std::collections::HashSet<BackupId>>,
    /// Wakes the scheduler when jobs change.
    pub(crate) wake: tokio::sync::Notify,
    pub(crate) agenda: Mutex<crate::held::Agenda>,
    /// This instance's id: the owner of the locks it takes.
    pub(crate) instance: String,
    /// The instance this one replaces, known to be dead (see [`ServicesBuilder::replaces`]).
    pub(crate) predecessor: Option<String>,
    /// Sends messages to integrations; without one, deliveries wait in the outbox.
    pub(crate) deliverer: Option<Arc<dyn crate::ports::Deliverer>>,
    /// Wakes the dispatcher when events with deliveries are recorded.
    pub(crate) deliveries_due: tokio::sync::Notify,
}

/// Assembles [`Services`] from its ports; only the store, the clock and the site are required.
pub struct ServicesBuilder {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    site: SiteConfig,
    engine: Option<Arc<dyn Engine>>,
    notifier: Arc<dyn Notifier>,
    snapshot_deadline: Duration,
    predecessor: Option<String>,
    deliverer: Option<Arc<dyn crate::ports::Deliverer>>,
}

impl ServicesBuilder {
    /// What sends messages to integrations (webhooks, Slack, e-mail).
    pub fn deliverer(mut self, deliverer: Arc<dyn crate::ports::Deliverer>) -> Self {
        self.deliverer = Some(deliverer);
        self
    }

    /// The instance that ran here before, which the caller knows to be dead (it held a lock on
    /// the data directory that this process now holds). Its unfinished work is settled at
    /// start instead of after the lease: a restarted Cairn does not leave its own backup
    /// `creating` for a minute.
    pub fn replaces(mut self, predecessor: Option<String>) -> Self {
        self.predecessor = predecessor;
        self
    }

    /// The engine that runs clusters; without one, creating clusters and backups is refused
    /// as unavailable.
    pub fn engine(mut self, engine: Arc<dyn Engine>) -> Self {
        self.engine = Some(engine);
        self
    }

    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = notifier;
        self
    }

    /// How long a snapshot may take before its backup is given up as defunct (default 1 hour).
    pub fn snapshot_deadline(mut self, deadline: Duration) -> Self {
        self.snapshot_deadline = deadline;
        self
    }

    pub fn build(self) -> Services {
        let instance = IdGenerator::new().next(self.clock.as_ref()).encode();
        Services {
            inner: Arc::new(Inner {
                store: self.store,
                clock: self.clock,
                engine: self.engine,
                notifier: self.notifier,
                ids: IdGenerator::new(),
                site: self.site,
                snapshot_deadline: self.snapshot_deadline,
                tasks: Mutex::new(Vec::new()),
                progress: Mutex::new(HashMap::new()),
                cancels: Mutex::new(HashMap::new()),
                verifying: Mutex::new(Default::default()),
                restore_tests: Mutex::new(Default::default()),
                metrics: Default::default(),
                live: Default::default(),
                access_checks: crate::held::access_checks(),
                backup_lists: Default::default(),
                wake: tokio::sync::Notify::new(),
                agenda: Mutex::new(Default::default()),
                instance,
                predecessor: self.predecessor,
                deliverer: self.deliverer,
                deliveries_due: tokio::sync::Notify::new(),
            }),
        }
    }
}

impl Services {
    pub fn builder(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        site: SiteConfig,
    ) -> ServicesBuilder {
        ServicesBuilder {
            store,
            clock,
            site,
            engine: None,
            notifier: Arc::new(LogNotifier),
            snapshot_deadline: Duration::from_secs(3600),
            predecessor: None,
            deliverer: None,
        }
    }

    /// Services with no engine and notifications to the log.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, site: SiteConfig) -> Self {
        Self::builder(store, clock, site).build()
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    pub(crate) fn engine(&self) -> Result<Arc<dyn Engine>> {
        self.inner
            .engine
            .clone()
            .ok_or_else(|| Error::Unavailable("no cluster engine is configured".into()))
    }

    /// Runs `work` in the background; [`Services::settle`] waits for it. Handles of work
    /// that has ended are dropped here, so the list holds only what still runs.
    pub(crate) fn spawn(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(work);
        let mut tasks = self.inner.tasks.lock().expect("task list");
        tasks.retain(|task| !task.is_finished());
        tasks.push(handle);
    }

    /// Waits until every background operation started so far (and any they start) has ended.
    pub async fn settle(&self) {
        loop {
            let pending: Vec<_> = std::mem::take(&mut *self.inner.tasks.lock().expect("task list"));
            if pending.is_empty() {
                return;
            }
            for handle in pending {
                if let Err(error) = handle.await {
                    tracing::error!(%error, "a background operation panicked");
                }
            }
        }
    }

    /// This instance's id (the owner named in the locks it takes).
    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    pub fn site(&self) -> &SiteConfig {
        &self.inner.site
    }

    /// First start and every start after: announces this instance, settles what dead
    /// instances left unfinished, then creates what the site's defaults lack (organization,
    /// project, a network per region), never changing what exists. Returns the default scope.
    pub async fn start(&self) -> Result<Place> {
        self.heartbeat().await?;
        self.recover().await?;
        self.seed().await
    }

    /// Creates what the site's defaults lack and returns the default scope; no heartbeat, no
    /// recovery (for tools like `cairn user create` that run beside a server).
    pub async fn seed(&self) -> Result<Place> {
        let plan = self.plan_seed().await?;
        if !plan.is_empty() {
            tracing::info!(
                organization.created = plan.organization.is_some(),
                project.created = plan.project.is_some(),
                networks.created = plan.networks.len(),
                "seeding site defaults"
            );
            self.inner.store.apply_seed(&plan).await?;
        }
        self.default_scope().await
    }

    /// What [`Services::start`] would create, without creating it.
    pub async fn plan_seed(&self) -> Result<SeedPlan> {
        let store = &self.inner.store;
        let mut state = SeedState::default();
        if let Some(organization) = store.organizations().await?.into_iter().next() {
            if let Some(project) = store.projects(&organization.id).await?.into_iter().next() {
                state.networks = store.networks(&project.id).await?;
                state.project = Some(project);
            }
            state.organization = Some(organization);
        }
        let inner = &self.inner;
        Ok(SeedPlan::compute(
            &inner.site,
            &state,
            &inner.ids,
            inner.clock.as_ref(),
        ))
    }

    /// The oldest organization's oldest project: where the console acts by default.
    pub async fn default_scope(&self) -> Result<Place> {
        let store = &self.inner.store;
        let organization = store
            .organizations()
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Unavailable("no organization exists yet".into()))?;
        let project = store
            .projects(&organization.id)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                Error::Unavailable(format!("organization {} has no project", organization.id))
            })?;
        Ok(Place {
            organization_id: organization.id,
            project_id: project.id,
        })
    }

    /// A person's scope in a project: the only way a request gets one. The project must be
    /// the organization's; a project the person has no role in is not found (its existence
    /// is not revealed), a role too weak for `need` is forbidden. Each use case still asks
    /// its scope for the right it needs.
    pub async fn authorize(
        &self,
        principal: &Principal,
        organization: &OrganizationId,
        project: &ProjectId,
        need: cairn_model::Permission,
    ) -> Result<Scope> {
        let role = principal.role_in(organization, project);
        crate::scope::allowed(role, project, need)?;
        let place = Place {
            organization_id: organization.clone(),
            project_id: project.clone(),
        };
        // Grants name real projects, but an organization-wide grant covers any id: check.
        self.project_of(organization, project).await?;
        Ok(Scope::person(place, Arc::new(principal.clone())))
    }

    pub async fn list_networks(&self, scope: &Scope) -> Result<Vec<Network>> {
        scope.require(Permission::Read)?;
        self.inner.store.networks(&scope.project_id).await
    }

    pub async fn list_clusters(&self, scope: &Scope) -> Result<Vec<Cluster>> {
        scope.require(Permission::Read)?;
        self.inner.store.clusters(&scope.project_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{InMemoryStore, ManualClock};

    fn services(store: Arc<InMemoryStore>) -> Services {
        Services::new(
            store,
            Arc::new(ManualClock::at("2026-11-24T12:00:00Z")),
            SiteConfig::default(),
        )
    }

    #[tokio::test]
    async fn first_start_seeds_the_default_project_with_a_network_per_region() {
        let services = services(Arc::new(InMemoryStore::default()));
        let scope = Scope::trusted(services.start().await.unwrap());
        let networks = services.list_networks(&scope).await.unwrap();
        let regions: Vec<_> = networks.iter().map(|n| n.region.as_str()).collect();
        assert_eq!(regions, ["local-1", "local-2"]);
        assert!(services.list_clusters(&scope).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_second_start_creates_nothing_and_keeps_the_same_scope() {
        let store = Arc::new(InMemoryStore::default());
        let first = services(store.clone()).start().await.unwrap();
        let again = services(store.clone());
        assert!(again.plan_seed().await.unwrap().is_empty());
        assert_eq!(again.start().await.unwrap(), first);
        let scope = Scope::trusted(first);
        assert_eq!(again.list_networks(&scope).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn networks_of_another_project_are_not_listed() {
        let store = Arc::new(InMemoryStore::default());
        let services = services(store);
        services.start().await.unwrap();
        let stranger = Scope::trusted(Place {
            organization_id: OrganizationId::parse("c1ev3l5o0aeu6ojco7b0").unwrap(),
            project_id: ProjectId::parse("c1ev3l5o0aeu6ojco7b0").unwrap(),
        });
        assert!(services.list_networks(&stranger).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn handles_of_finished_background_work_are_not_kept() {
        let services = services(Arc::new(InMemoryStore::default()));
        for _ in 0..1000 {
            services.spawn(async {});
            tokio::task::yield_now().await;
        }
        assert!(services.inner.tasks.lock().unwrap().len() <= 1);
    }

    #[tokio::test]
    async fn before_any_start_the_default_scope_is_unavailable_with_a_reason() {
        let services = services(Arc::new(InMemoryStore::default()));
        let error = services.default_scope().await.unwrap_err();
        assert_eq!(error.to_string(), "no organization exists yet");
    }
}
