//! How a message reaches an integration's sink. Adapters (HTTP, SMTP) live outside the core.

use cairn_model::{DeliveryId, Event, Integration, IssueStatus};

/// What a sink is given to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub delivery_id: DeliveryId,
    pub event: Event,
    /// For issues: whether this message says it opened or closed.
    pub announces: Option<IssueStatus>,
}

impl Outgoing {
    /// The one-line subject every sink shows.
    pub fn subject(&self) -> String {
        summary(&self.event.subject, self.announces)
    }
}

/// An event's subject as a message says it: issues say whether they opened or closed.
pub(crate) fn summary(subject: &str, announces: Option<IssueStatus>) -> String {
    match announces {
        Some(IssueStatus::Closed) => format!("Resolved: {subject}"),
        Some(IssueStatus::Open) => format!("Issue: {subject}"),
        None => subject.to_owned(),
    }
}

/// Sends a message to an integration's sink. Adapters (HTTP, SMTP) live outside the core.
#[async_trait::async_trait]
pub trait Deliverer: Send + Sync + 'static {
    /// `Err` says why in words for the delivery log ("the webhook answered 500").
    async fn deliver(
        &self,
        integration: &Integration,
        message: &Outgoing,
    ) -> std::result::Result<(), String>;
}
