//! The notifier port: where what is worth telling a person goes.

use async_trait::async_trait;

/// Something worth telling a person about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The project it belongs to (its integrations are told); `None` only in tests of the
    /// notifier itself. A place, not a scope: a notifier gets no right to act there.
    pub scope: Option<crate::scope::Place>,
    /// What sort: `backup-failed`, `backup-deletion-failed`, `restore-failed`,
    /// `provisioning-failed`, `cluster-change-failed`, `scheduled-run-failed`.
    pub category: &'static str,
    pub subject: String,
    pub message: String,
    /// The resource it is about (a backup id, say).
    pub resource_id: String,
}

/// Where notifications go (chat, pager, e-mail integrations; the log by default).
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    async fn notify(&self, notification: Notification);
}

/// The default notifier: a warning in the log, where an operator without integrations looks.
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn notify(&self, n: Notification) {
        tracing::warn!(notification.resource = %n.resource_id, "{}: {}", n.subject, n.message);
    }
}
