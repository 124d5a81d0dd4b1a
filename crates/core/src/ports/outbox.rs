//! Integrations, the events they are told of, and the outbox of deliveries to them.

use crate::error::Result;
use async_trait::async_trait;
use cairn_model::{
    Delivery, Event, EventId, Integration, IntegrationId, Page, PageRequest, ProjectId,
};
use chrono::{DateTime, Utc};

/// Integrations, events (notifications and issues) and their deliveries.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// How many deliveries wait to be sent.
    async fn count_pending_deliveries(&self) -> Result<u64>;
    /// Inserts an integration.
    async fn insert_integration(&self, integration: &Integration) -> Result<()>;
    /// An integration by id, in any project (the dispatcher's read; use cases check the
    /// project).
    async fn integration(&self, id: &IntegrationId) -> Result<Option<Integration>>;
    /// A project's integrations, oldest first.
    async fn integrations(&self, project: &ProjectId) -> Result<Vec<Integration>>;
    /// Replaces an integration's description, source and sink; `false` when it is gone.
    async fn update_integration(&self, integration: &Integration) -> Result<bool>;
    /// Deletes an integration; its pending deliveries fail with the reason. `false` when gone.
    async fn delete_integration(&self, id: &IntegrationId, at: DateTime<Utc>) -> Result<bool>;
    /// Writes an event and its deliveries (the outbox) in one transaction.
    async fn record_event(&self, event: &Event, deliveries: &[Delivery]) -> Result<()>;
    /// Closes an open issue and queues its deliveries, together; `false` when it was not open.
    async fn close_issue(
        &self,
        id: &EventId,
        at: DateTime<Utc>,
        deliveries: &[Delivery],
    ) -> Result<bool>;
    /// Writes a test event and its (already tried) delivery.
    async fn record_test(&self, event: &Event, delivery: &Delivery) -> Result<()>;
    async fn event(&self, id: &EventId) -> Result<Option<Event>>;
    /// A project's events, newest first.
    async fn events(&self, project: &ProjectId, limit: u32) -> Result<Vec<Event>>;
    /// One page of a project's events but test messages (category `test`: they belong to
    /// their integration's delivery log), by `(created, id)` (keyset). Filters: `status`
    /// (`open` or `closed` issues, or `notification`s), `cluster_id` and `job_id` (the
    /// resource it is about), `q` (in its subject, message, category, id or resource id).
    async fn events_page(&self, project: &ProjectId, request: &PageRequest) -> Result<Page<Event>>;
    /// Every open issue, of every project.
    async fn open_issues(&self) -> Result<Vec<Event>>;
    /// Claims up to `limit` pending deliveries due at `now`: their next attempt moves to
    /// `lease`, so no other instance takes them meanwhile.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Delivery>>;
    /// Records a try's outcome (status, attempts, next attempt, error, when delivered).
    async fn finish_delivery(&self, delivery: &Delivery) -> Result<()>;
    /// An integration's deliveries, newest first.
    async fn deliveries(&self, integration: &IntegrationId, limit: u32) -> Result<Vec<Delivery>>;
    /// Forgets what happened before `before`: deliveries no longer pending, then notifications
    /// and closed issues with no delivery left. Open issues and pending deliveries stay.
    /// Answers how many events went.
    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64>;
}
