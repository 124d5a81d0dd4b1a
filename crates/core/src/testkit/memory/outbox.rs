//! Integrations, events and deliveries, in memory.

use super::InMemoryStore;
use crate::error::Result;
use crate::ports::OutboxStore;
use async_trait::async_trait;
use cairn_model::{
    Delivery, DeliveryStatus, Event, EventId, EventKind, Integration, IntegrationId, IssueStatus,
    Page, PageRequest, ProjectId,
};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

#[async_trait]
impl OutboxStore for InMemoryStore {
    async fn count_pending_deliveries(&self) -> Result<u64> {
        let state = self.state.lock().unwrap();
        Ok(state
            .deliveries
            .iter()
            .filter(|d| d.status == DeliveryStatus::Pending)
            .count() as u64)
    }

    async fn insert_integration(&self, integration: &Integration) -> Result<()> {
        self.state
            .lock()
            .unwrap()
            .integrations
            .push(integration.clone());
        Ok(())
    }

    async fn integration(&self, id: &IntegrationId) -> Result<Option<Integration>> {
        let state = self.state.lock().unwrap();
        Ok(state.integrations.iter().find(|i| &i.id == id).cloned())
    }

    async fn integrations(&self, project: &ProjectId) -> Result<Vec<Integration>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .integrations
            .iter()
            .filter(|i| &i.project_id == project)
            .cloned()
            .collect())
    }

    async fn update_integration(&self, integration: &Integration) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        match state
            .integrations
            .iter_mut()
            .find(|i| i.id == integration.id)
        {
            Some(stored) => {
                *stored = integration.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_integration(&self, id: &IntegrationId, at: DateTime<Utc>) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        let before = state.integrations.len();
        state.integrations.retain(|i| &i.id != id);
        for delivery in state
            .deliveries
            .iter_mut()
            .filter(|d| &d.integration_id == id && d.status == DeliveryStatus::Pending)
        {
            delivery.status = DeliveryStatus::Failed;
            delivery.next_attempt = None;
            delivery.last_error = Some(format!("the integration was deleted at {at}"));
        }
        Ok(state.integrations.len() < before)
    }

    async fn record_event(&self, event: &Event, deliveries: &[Delivery]) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        // As the databases' unique keys have it: an event is written once, and one issue stays
        // open per (category, resource). Another instance opened it first: nothing to add.
        let open = |e: &Event| e.status == Some(IssueStatus::Open);
        let taken = state.events.iter().any(|e| {
            e.id == event.id
                || (open(e)
                    && open(event)
                    && e.category == event.category
                    && e.resource_id == event.resource_id)
        });
        if taken {
            return Ok(());
        }
        state.events.push(event.clone());
        state.deliveries.extend_from_slice(deliveries);
        Ok(())
    }

    async fn close_issue(
        &self,
        id: &EventId,
        at: DateTime<Utc>,
        deliveries: &[Delivery],
    ) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        let Some(issue) = state
            .events
            .iter_mut()
            .find(|e| &e.id == id && e.status == Some(IssueStatus::Open))
        else {
            return Ok(false);
        };
        issue.status = Some(IssueStatus::Closed);
        issue.closed = Some(at);
        state.deliveries.extend_from_slice(deliveries);
        Ok(true)
    }

    async fn record_test(&self, event: &Event, delivery: &Delivery) -> Result<()> {
        // The same write as any event's, as in the SQL stores.
        self.record_event(event, std::slice::from_ref(delivery))
            .await
    }

    async fn event(&self, id: &EventId) -> Result<Option<Event>> {
        let state = self.state.lock().unwrap();
        Ok(state.events.iter().find(|e| &e.id == id).cloned())
    }

    async fn events(&self, project: &ProjectId, limit: u32) -> Result<Vec<Event>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .events
            .iter()
            .rev()
            .filter(|e| &e.project_id == project)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn events_page(&self, project: &ProjectId, request: &PageRequest) -> Result<Page<Event>> {
        let f = &request.filters;
        let state = self.state.lock().unwrap();
        let in_state = |e: &Event| match f.status.as_deref() {
            None => true,
            Some("notification") => e.kind == EventKind::Notification,
            Some("open") => e.kind == EventKind::Issue && e.status == Some(IssueStatus::Open),
            Some("closed") => e.kind == EventKind::Issue && e.status == Some(IssueStatus::Closed),
            Some(_) => false,
        };
        let rows: Vec<Event> = state
            .events
            .iter()
            .filter(|e| &e.project_id == project && e.category != "test")
            .filter(|e| in_state(e))
            .filter(|e| f.cluster_id.as_deref().is_none_or(|c| e.resource_id == c))
            .filter(|e| f.job_id.as_deref().is_none_or(|j| e.resource_id == j))
            .filter(|e| {
                f.text_matches(&[
                    &e.subject,
                    &e.message,
                    &e.category,
                    e.id.as_str(),
                    &e.resource_id,
                ])
            })
            .cloned()
            .collect();
        Ok(Page::select(rows, request, |e| {
            (e.created, e.id.to_string())
        }))
    }

    async fn open_issues(&self) -> Result<Vec<Event>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .events
            .iter()
            .filter(|e| e.status == Some(IssueStatus::Open))
            .cloned()
            .collect())
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        let mut state = self.state.lock().unwrap();
        let mut claimed = Vec::new();
        for delivery in state.deliveries.iter_mut().filter(|d| {
            d.status == DeliveryStatus::Pending && d.next_attempt.is_some_and(|at| at <= now)
        }) {
            if claimed.len() == limit as usize {
                break;
            }
            delivery.next_attempt = Some(lease);
            claimed.push(delivery.clone());
        }
        Ok(claimed)
    }

    async fn finish_delivery(&self, delivery: &Delivery) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        if let Some(stored) = state.deliveries.iter_mut().find(|d| d.id == delivery.id) {
            *stored = delivery.clone();
        }
        Ok(())
    }

    async fn deliveries(&self, integration: &IntegrationId, limit: u32) -> Result<Vec<Delivery>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .deliveries
            .iter()
            .rev()
            .filter(|d| &d.integration_id == integration)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64> {
        let mut state = self.state.lock().unwrap();
        state
            .deliveries
            .retain(|d| d.status == DeliveryStatus::Pending || d.created >= before);
        let kept: HashSet<EventId> = state
            .deliveries
            .iter()
            .map(|d| d.event_id.clone())
            .collect();
        let count = state.events.len();
        state.events.retain(|e| {
            e.created >= before || e.status == Some(IssueStatus::Open) || kept.contains(&e.id)
        });
        Ok((count - state.events.len()) as u64)
    }
}
