//! Events and their delivery: notifications raised when something fails, issues opened and
//! closed as conditions come and go, and the outbox that carries both to integrations.
//!
//! Raising an event writes it and one delivery per matching integration in one transaction
//! (the outbox); the dispatcher sends due deliveries in the background, each in its own task
//! with a time limit, and retries failures with backoff. Nothing that raises an event waits
//! for a sink: a slow or dead one never holds up a backup.

use crate::audit::{Record, Subject};
use crate::error::{Error, Result};
use crate::integrations::integration_words;
use crate::ports::summary;
use crate::ports::Notification;
pub use crate::ports::{Deliverer, Outgoing};
use crate::services::{Scope, Services};
use cairn_model::audit::actions;
use cairn_model::schedule::Schedule;
use cairn_model::Permission;
use cairn_model::{
    Delivery, DeliveryId, DeliveryStatus, Event, EventId, EventKind, Integration, IssueStatus,
};
use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, HashSet};
use std::future::Future;

/// Tries before a delivery is given up as failed (about 25 minutes of backoff).
pub const MAX_ATTEMPTS: u32 = 12;
/// How long one try may take before it counts as failed.
pub const DELIVERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How often the dispatcher looks for due deliveries (it is also woken when events are raised).
const DISPATCH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// How long events and finished deliveries are kept (open issues and pending deliveries are
/// kept until they end).
pub const EVENT_RETENTION: Duration = Duration::days(90);
/// How often old events are pruned.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
/// Tries running at once in the server's dispatcher.
pub const SENDING_AT_ONCE: usize = 8;
/// How often issues are reviewed.
pub const REVIEW_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// The wait before try `attempt + 1` after `attempt` failed tries: 1 s, 2 s, 4 s … 5 min.
pub fn backoff(attempts: u32) -> Duration {
    let seconds = 1i64 << attempts.saturating_sub(1).min(16);
    Duration::seconds(seconds.min(300))
}

/// One try, cut off after [`DELIVERY_TIMEOUT`].
async fn send_once(
    deliverer: &dyn Deliverer,
    integration: &Integration,
    message: &Outgoing,
) -> std::result::Result<(), String> {
    match tokio::time::timeout(DELIVERY_TIMEOUT, deliverer.deliver(integration, message)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} s", DELIVERY_TIMEOUT.as_secs())),
    }
}

impl Services {
    /// Records a notification (and hands it to the notifier): one delivery per integration of
    /// its project that sends notifications. Never fails its caller: a failure to record is
    /// logged.
    pub(crate) async fn raise(&self, notification: Notification) {
        self.inner().notifier.notify(notification.clone()).await;
        let Some(scope) = notification.scope.clone() else {
            return;
        };
        let raw = self.inner().ids.next(self.inner().clock.as_ref());
        let event = Event {
            id: EventId::from_raw(raw),
            organization_id: scope.organization_id.clone(),
            project_id: scope.project_id.clone(),
            kind: EventKind::Notification,
            category: notification.category.to_owned(),
            subject: notification.subject,
            message: notification.message,
            resource_id: notification.resource_id,
            status: None,
            created: self.inner().clock.now(),
            closed: None,
        };
        if let Err(error) = self.record(&event, None).await {
            tracing::error!(%error, event.category = %event.category, "could not record a notification");
        }
    }

    /// Writes an event, or an issue's closing, with its deliveries.
    async fn record(&self, event: &Event, closing: Option<DateTime<Utc>>) -> Result<()> {
        let integrations = self.inner().store.integrations(&event.project_id).await?;
        let announces = match event.kind {
            EventKind::Issue if closing.is_some() => Some(IssueStatus::Closed),
            EventKind::Issue => Some(IssueStatus::Open),
            EventKind::Notification => None,
        };
        let now = self.inner().clock.now();
        let deliveries: Vec<Delivery> = integrations
            .iter()
            .filter(|i| i.source == event.kind.source())
            .map(|integration| {
                let raw = self.inner().ids.next(self.inner().clock.as_ref());
                Delivery {
                    id: DeliveryId::from_raw(raw),
                    integration_id: integration.id.clone(),
                    event_id: event.id.clone(),
                    summary: summary(&event.subject, announces),
                    announces,
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    next_attempt: Some(now),
                    last_error: None,
                    created: now,
                    delivered: None,
                }
            })
            .collect();
        match closing {
            None => self.inner().store.record_event(event, &deliveries).await?,
            Some(at) => {
                self.inner()
                    .store
                    .close_issue(&event.id, at, &deliveries)
                    .await?;
            }
        }
        if !deliveries.is_empty() {
            self.inner().deliveries_due.notify_one();
        }
        Ok(())
    }

    /// The project's events, newest first (at most `limit`); test messages are in their
    /// integration's delivery log, not here.
    pub async fn events(&self, scope: &Scope, limit: u32) -> Result<Vec<Event>> {
        scope.require(Permission::Read)?;
        Ok(self
            .inner()
            .store
            .events(&scope.project_id, limit)
            .await?
            .into_iter()
            .filter(|e| e.category != "test")
            .collect())
    }

    /// Opens an issue for each condition that holds and has none open; closes open ones whose
    /// condition cleared. Conditions: a running job whose last success (or its start, when it
    /// never succeeded) is older than twice its interval; an available cluster whose health
    /// is not ok.
    pub async fn review_issues(&self) -> Result<()> {
        let store = &self.inner().store;
        let now = self.inner().clock.now();
        let mut holding: HashMap<(String, String), Event> = HashMap::new();

        let successes = store.last_successes().await?;
        for (job, _) in store.scheduled_jobs().await? {
            let Ok(schedule) = Schedule::parse(&job.schedule) else {
                continue;
            };
            // Paused time counts too: a resumed job that has not backed up for two intervals
            // is overdue, which is what its owner needs to hear.
            let since = successes
                .get(&job.id)
                .copied()
                .map_or(job.created, |s| s.max(job.created));
            // Two scheduled runs have come and gone since: for an even schedule that is "older
            // than twice its interval", and uneven ones (0 */7 * * *) are judged by their real
            // run times rather than by one gap.
            let second_run = schedule.next_after(schedule.next_after(since));
            if now > second_run {
                let (what, verb) = match job.job_type {
                    cairn_model::JobType::ScheduledBackup => ("backup", "back up"),
                    cairn_model::JobType::ScheduledRestoreTest => {
                        ("restore test", "test a restore")
                    }
                };
                let last =
                    successes
                        .get(&job.id)
                        .map_or("it has not succeeded yet".to_owned(), |at| {
                            format!(
                                "its last successful {what} was at {}",
                                at.format("%Y-%m-%d %H:%M UTC")
                            )
                        });
                holding.insert(
                    ("job-overdue".into(), job.id.to_string()),
                    self.new_issue(
                        &job.organization_id,
                        &job.project_id,
                        "job-overdue",
                        match job.job_type {
                            cairn_model::JobType::ScheduledBackup => {
                                format!("Backups of job “{}” are overdue", job.description)
                            }
                            cairn_model::JobType::ScheduledRestoreTest => {
                                format!("Restore tests of job “{}” are overdue", job.description)
                            }
                        },
                        format!(
                            "Job {} ({}) should {verb} {}; {last}.",
                            job.id,
                            job.description,
                            schedule.describe().to_lowercase()
                        ),
                        job.id.to_string(),
                    ),
                );
            }
        }
        for cluster in store
            .clusters_with_status(cairn_model::ClusterStatus::Available)
            .await?
        {
            if cluster.health != cairn_model::ClusterHealth::Ok {
                holding.insert(
                    ("cluster-unhealthy".into(), cluster.id.to_string()),
                    self.new_issue(
                        &cluster.organization_id,
                        &cluster.project_id,
                        "cluster-unhealthy",
                        format!("Cluster “{}” is {}", cluster.description, cluster.health.as_str()),
                        format!(
                            "Cluster {} ({}) reports health {}; backups of it are refused until it is ok.",
                            cluster.id,
                            cluster.description,
                            cluster.health.as_str()
                        ),
                        cluster.id.to_string(),
                    ),
                );
            }
        }

        // A cluster being resized, upgraded, expanded or restarted keeps an open issue open:
        // closing it mid-change would send "Resolved" and then a new issue.
        let mut changing: HashSet<String> = HashSet::new();
        for status in [
            cairn_model::ClusterStatus::ExpandingDisks,
            cairn_model::ClusterStatus::Resizing,
            cairn_model::ClusterStatus::Upgrading,
            cairn_model::ClusterStatus::Restarting,
        ] {
            changing.extend(
                store
                    .clusters_with_status(status)
                    .await?
                    .into_iter()
                    .map(|c| c.id.to_string()),
            );
        }

        let open = store.open_issues().await?;
        let open_keys: HashSet<(String, String)> = open
            .iter()
            .map(|e| (e.category.clone(), e.resource_id.clone()))
            .collect();
        for issue in &open {
            let key = (issue.category.clone(), issue.resource_id.clone());
            let paused =
                issue.category == "cluster-unhealthy" && changing.contains(&issue.resource_id);
            if !holding.contains_key(&key) && !paused {
                self.record(issue, Some(now)).await?;
                tracing::info!(issue.category = %issue.category, issue.resource = %issue.resource_id, "issue closed");
            }
        }
        for (key, issue) in holding {
            if !open_keys.contains(&key) {
                self.record(&issue, None).await?;
                tracing::warn!(issue.category = %issue.category, issue.resource = %issue.resource_id, "issue opened");
            }
        }
        Ok(())
    }

    fn new_issue(
        &self,
        organization: &cairn_model::OrganizationId,
        project: &cairn_model::ProjectId,
        category: &str,
        subject: String,
        message: String,
        resource_id: String,
    ) -> Event {
        let raw = self.inner().ids.next(self.inner().clock.as_ref());
        Event {
            id: EventId::from_raw(raw),
            organization_id: organization.clone(),
            project_id: project.clone(),
            kind: EventKind::Issue,
            category: category.to_owned(),
            subject,
            message,
            resource_id,
            status: Some(IssueStatus::Open),
            created: self.inner().clock.now(),
            closed: None,
        }
    }

    /// Sends every due delivery once: each in its own task, with a time limit. Returns how
    /// many were tried. Used by [`Services::run_deliveries`] and by tests.
    pub async fn dispatch_due(&self) -> Result<usize> {
        let Some(deliverer) = self.inner().deliverer.clone() else {
            return Ok(0);
        };
        let due = self.claim_due(50).await?;
        let count = due.len();
        let tries: Vec<_> = due
            .into_iter()
            .map(|delivery| self.start_try(deliverer.clone(), delivery, None))
            .collect();
        for task in tries {
            let _ = task.await;
        }
        Ok(count)
    }

    /// Up to `limit` due deliveries, leased until a try surely ended so that another instance
    /// does not send them meanwhile.
    async fn claim_due(&self, limit: u32) -> Result<Vec<Delivery>> {
        let now = self.inner().clock.now();
        let lease = now + Duration::from_std(DELIVERY_TIMEOUT * 3).expect("a small duration");
        self.inner().store.claim_deliveries(now, lease, limit).await
    }

    /// Tries a delivery in its own task, holding `slot` (if any) until it ends.
    fn start_try(
        &self,
        deliverer: std::sync::Arc<dyn Deliverer>,
        delivery: Delivery,
        slot: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> tokio::task::JoinHandle<()> {
        let services = self.clone();
        tokio::spawn(async move {
            logged!(
                services.try_delivery(deliverer.as_ref(), delivery).await,
                "could not record a delivery's outcome"
            );
            drop(slot);
        })
    }

    /// Claims as many due deliveries as there are free slots and starts each in its own task.
    async fn dispatch_into(&self, slots: &std::sync::Arc<tokio::sync::Semaphore>) -> Result<()> {
        let Some(deliverer) = self.inner().deliverer.clone() else {
            return Ok(());
        };
        let free = slots.available_permits();
        if free == 0 {
            return Ok(());
        }
        let due = self
            .claim_due(u32::try_from(free).unwrap_or(u32::MAX))
            .await?;
        for delivery in due {
            let slot = slots
                .clone()
                .acquire_owned()
                .await
                .map_err(Error::internal)?;
            self.start_try(deliverer.clone(), delivery, Some(slot));
        }
        Ok(())
    }

    async fn try_delivery(&self, deliverer: &dyn Deliverer, mut delivery: Delivery) -> Result<()> {
        let store = &self.inner().store;
        let integration = store.integration(&delivery.integration_id).await?;
        let event = store.event(&delivery.event_id).await?;
        let outcome = match (integration, event) {
            (Some(integration), Some(event)) => {
                let message = Outgoing {
                    delivery_id: delivery.id.clone(),
                    event,
                    announces: delivery.announces,
                };
                send_once(deliverer, &integration, &message).await
            }
            (None, _) => Err("the integration was deleted".to_owned()),
            (_, None) => Err("the event is gone".to_owned()),
        };
        let now = self.inner().clock.now();
        delivery.attempts += 1;
        match outcome {
            Ok(()) => {
                delivery.status = DeliveryStatus::Delivered;
                delivery.delivered = Some(now);
                delivery.next_attempt = None;
                delivery.last_error = None;
            }
            Err(reason) => {
                delivery.last_error = Some(reason);
                if delivery.attempts >= MAX_ATTEMPTS
                    || delivery.last_error.as_deref() == Some("the integration was deleted")
                {
                    delivery.status = DeliveryStatus::Failed;
                    delivery.next_attempt = None;
                } else {
                    delivery.next_attempt = Some(now + backoff(delivery.attempts));
                }
            }
        }
        store.finish_delivery(&delivery).await
    }

    /// Until `shutdown`: sends due deliveries, woken by new events or every second (retries).
    /// At most [`SENDING_AT_ONCE`] tries run at a time, and the loop never waits for them: a
    /// sink that does not answer holds one slot, not everyone's messages.
    pub async fn run_deliveries(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(SENDING_AT_ONCE));
        loop {
            logged!(
                self.dispatch_into(&slots).await,
                "could not send due deliveries"
            );
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.inner().deliveries_due.notified() => {}
                _ = tokio::time::sleep(DISPATCH_EVERY) => {}
            }
        }
    }

    /// Forgets events and finished deliveries older than [`EVENT_RETENTION`].
    pub async fn prune_events(&self) -> Result<u64> {
        let before = self.inner().clock.now() - EVENT_RETENTION;
        self.inner().store.prune_events(before).await
    }

    /// Until `shutdown`: reviews issues every [`REVIEW_EVERY`], and prunes old events and job
    /// history hourly.
    pub async fn run_issue_review(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut pruned_at: Option<std::time::Instant> = None;
        loop {
            logged!(self.review_issues().await, "could not review issues");
            if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                pruned_at = Some(std::time::Instant::now());
                logged!(self.prune_events().await, "could not prune old events");
                logged!(
                    self.prune_history().await,
                    "could not prune old job history"
                );
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(REVIEW_EVERY) => {}
            }
        }
    }

    /// Sends a sample message to an integration now and says how it went; recorded in its
    /// delivery log like any other, and in the audit (done even when the sink refused the
    /// message: the test itself worked, and its summary says how the message fared).
    pub async fn test_integration(
        &self,
        scope: &Scope,
        id: &cairn_model::IntegrationId,
    ) -> Result<Delivery> {
        let record = Record::in_scope(
            scope,
            actions::INTEGRATION_TEST,
            Subject::new("integration", id, ""),
        );
        let work = self.testing_integration(scope, id);
        let (_, delivery) = self
            .audited(record, work, |(integration, delivery), _| {
                let fared = match delivery.status {
                    DeliveryStatus::Delivered => "delivered",
                    _ => "not delivered",
                };
                let words = integration_words(integration);
                Subject::new("integration", id, format!("{words}: test message {fared}"))
            })
            .await?;
        Ok(delivery)
    }

    async fn testing_integration(
        &self,
        scope: &Scope,
        id: &cairn_model::IntegrationId,
    ) -> Result<(Integration, Delivery)> {
        scope.require(Permission::Operate)?;
        let integration = self.get_integration(scope, id).await?;
        let deliverer = self
            .inner()
            .deliverer
            .clone()
            .ok_or_else(|| Error::Unavailable("this Cairn sends no messages".into()))?;
        let now = self.inner().clock.now();
        let raw = self.inner().ids.next(self.inner().clock.as_ref());
        let kind = match integration.source {
            cairn_model::EventSource::Notifications => EventKind::Notification,
            cairn_model::EventSource::Issues => EventKind::Issue,
        };
        let event = Event {
            id: EventId::from_raw(raw),
            organization_id: scope.organization_id.clone(),
            project_id: scope.project_id.clone(),
            kind,
            category: "test".into(),
            subject: format!("Test message for “{}”", integration.description),
            message: "Cairn sent this to check the integration. Nothing failed.".into(),
            resource_id: integration.id.to_string(),
            status: (kind == EventKind::Issue).then_some(IssueStatus::Closed),
            created: now,
            closed: (kind == EventKind::Issue).then_some(now),
        };
        let raw = self.inner().ids.next(self.inner().clock.as_ref());
        let message = Outgoing {
            delivery_id: DeliveryId::from_raw(raw),
            event: event.clone(),
            announces: None,
        };
        let outcome = send_once(deliverer.as_ref(), &integration, &message).await;
        let delivery = Delivery {
            id: message.delivery_id.clone(),
            integration_id: integration.id.clone(),
            event_id: event.id.clone(),
            summary: message.subject(),
            announces: None,
            status: if outcome.is_ok() {
                DeliveryStatus::Delivered
            } else {
                DeliveryStatus::Failed
            },
            attempts: 1,
            next_attempt: None,
            last_error: outcome.clone().err(),
            created: now,
            delivered: outcome.is_ok().then_some(now),
        };
        self.inner().store.record_test(&event, &delivery).await?;
        Ok((integration, delivery))
    }
}

#[cfg(test)]
mod tests;
