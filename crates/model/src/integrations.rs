//! Integrations (where Cairn tells people things) and events (what it tells them).
//!
//! An integration sends one source of events — `notifications` (something failed) or `issues`
//! (a condition that opens and later closes) — to one sink: a webhook signed with HMAC-SHA256,
//! a Slack incoming webhook, or e-mail over SMTP. Secrets are write-only: what is shown is a
//! masked display value.

use crate::ids::{DeliveryId, EventId, IntegrationId, OrganizationId, ProjectId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which events an integration sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventSource {
    Notifications,
    Issues,
}

impl EventSource {
    pub fn as_str(self) -> &'static str {
        match self {
            EventSource::Notifications => "notifications",
            EventSource::Issues => "issues",
        }
    }
}

/// Where messages go, with its secrets (as given when created or updated; stored, never shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "sink", rename_all = "lowercase")]
pub enum Sink {
    /// POSTs the event as JSON, signed: `X-Cairn-Signature: sha256=<hex HMAC of the body>`.
    #[serde(rename_all = "camelCase")]
    Webhook { url: String, secret: String },
    /// A Slack incoming webhook (its URL is the secret).
    #[serde(rename_all = "camelCase")]
    Slack { url: String },
    /// Mail over SMTP (STARTTLS when asked; plain on loopback relays).
    Email(EmailSink),
}

/// An e-mail sink's settings, as given (the password included). A struct of its own so the
/// sender, the console's form and the checks name the fields once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailSink {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub from: String,
    pub to: Vec<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub starttls: bool,
}

impl EmailSink {
    /// A relay on this machine may take credentials without STARTTLS.
    pub fn relay_is_local(&self) -> bool {
        let host = self.smtp_host.trim();
        matches!(host, "localhost" | "::1") || host.starts_with("127.")
    }

    fn view(&self) -> SinkView {
        SinkView::Email {
            smtp_host: self.smtp_host.clone(),
            smtp_port: self.smtp_port,
            from: self.from.clone(),
            to: self.to.clone(),
            username: self.username.clone(),
            password_display: self.password.as_deref().map(mask),
            starttls: self.starttls,
        }
    }

    fn check(&self, errors: &mut crate::FieldErrors) {
        let has_credentials = self.username.is_some() || self.password.is_some();
        if has_credentials && !self.starttls && !self.relay_is_local() {
            errors.insert(
                "data.starttls".into(),
                "a user name and password are sent only over STARTTLS (or to a relay on this machine)".into(),
            );
        }
        if self.smtp_host.trim().is_empty() {
            errors.insert("data.smtpHost".into(), "an SMTP server is required".into());
        }
        if self.smtp_port == 0 {
            errors.insert("data.smtpPort".into(), "a port from 1 to 65535".into());
        }
        if !looks_like_address(&self.from) {
            errors.insert(
                "data.from".into(),
                "an address like cairn@example.com".into(),
            );
        }
        if self.to.is_empty() || !self.to.iter().all(|a| looks_like_address(a)) {
            errors.insert(
                "data.to".into(),
                "one or more addresses like ops@example.com".into(),
            );
        }
    }
}

/// A sink as shown: every secret replaced by a masked display value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "sink", rename_all = "lowercase")]
pub enum SinkView {
    #[serde(rename_all = "camelCase")]
    Webhook { url: String, secret_display: String },
    #[serde(rename_all = "camelCase")]
    Slack { url_display: String },
    #[serde(rename_all = "camelCase")]
    Email {
        smtp_host: String,
        smtp_port: u16,
        from: String,
        to: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password_display: Option<String>,
        starttls: bool,
    },
}

/// "••••cdef": enough to tell two secrets apart, not enough to use one.
pub fn mask(secret: &str) -> String {
    let tail: String = secret
        .chars()
        .rev()
        .take(if secret.chars().count() >= 12 { 4 } else { 0 })
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("••••{tail}")
}

impl Sink {
    pub fn kind(&self) -> &'static str {
        match self {
            Sink::Webhook { .. } => "webhook",
            Sink::Slack { .. } => "slack",
            Sink::Email(_) => "email",
        }
    }

    pub fn view(&self) -> SinkView {
        match self {
            Sink::Webhook { url, secret } => SinkView::Webhook {
                url: without_credentials(url),
                secret_display: mask(secret),
            },
            Sink::Slack { url } => SinkView::Slack {
                url_display: mask(url),
            },
            Sink::Email(mail) => mail.view(),
        }
    }

    /// Every problem at once, keyed by wire field (`data.url`, …).
    pub fn check(&self) -> crate::FieldErrors {
        let mut errors = crate::FieldErrors::new();
        let mut need_url = |field: &str, url: &str| {
            let url = url.trim();
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
                errors.insert(
                    format!("data.{field}"),
                    "an http:// or https:// address is required".into(),
                );
            }
        };
        match self {
            Sink::Webhook { url, secret } => {
                need_url("url", url);
                if secret.chars().count() < 16 {
                    errors.insert(
                        "data.secret".into(),
                        "at least 16 characters: the receiver checks signatures with it".into(),
                    );
                }
            }
            Sink::Slack { url } => need_url("url", url),
            Sink::Email(mail) => mail.check(&mut errors),
        }
        errors
    }
}

/// A webhook address as shown: no user:password, no query string (tokens often live there).
pub fn without_credentials(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let path = match path.split_once('?') {
        Some((path, _)) => format!("{path}?…"),
        None => path.to_owned(),
    };
    let shown = if path.is_empty() {
        host.to_owned()
    } else {
        format!("{host}/{path}")
    };
    if scheme.is_empty() {
        shown
    } else {
        format!("{scheme}://{shown}")
    }
}

fn looks_like_address(text: &str) -> bool {
    let text = text.trim();
    text.split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !text.contains(char::is_whitespace)
}

/// An integration as stored (with its sink's secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    pub id: IntegrationId,
    pub organization_id: OrganizationId,
    pub project_id: ProjectId,
    pub description: String,
    pub source: EventSource,
    pub sink: Sink,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// An integration as the API and the console show it (Kurrent's shape: the sink under `data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationView {
    pub id: IntegrationId,
    pub organization_id: OrganizationId,
    pub project_id: ProjectId,
    pub description: String,
    pub source: EventSource,
    pub data: SinkView,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

impl Integration {
    pub fn view(&self) -> IntegrationView {
        IntegrationView {
            id: self.id.clone(),
            organization_id: self.organization_id.clone(),
            project_id: self.project_id.clone(),
            description: self.description.clone(),
            source: self.source,
            data: self.sink.view(),
            created: self.created,
            updated: self.updated,
        }
    }
}

/// Create (and update: every field) request of an integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationRequest {
    pub description: String,
    pub source: EventSource,
    pub data: Sink,
}

/// What happened. Notifications happen once; issues open and later close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Notification,
    Issue,
}

impl EventKind {
    pub fn source(self) -> EventSource {
        match self {
            EventKind::Notification => EventSource::Notifications,
            EventKind::Issue => EventSource::Issues,
        }
    }
}

/// An issue's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssueStatus {
    Open,
    Closed,
}

/// One notification, or one issue (which a later event closes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: EventId,
    pub organization_id: OrganizationId,
    pub project_id: ProjectId,
    pub kind: EventKind,
    /// What sort: `backup-failed`, `backup-deletion-failed`, `restore-failed`,
    /// `scheduled-run-failed`, `job-overdue`, `cluster-unhealthy`, `test`.
    pub category: String,
    pub subject: String,
    pub message: String,
    /// The resource it is about (backup, cluster, job id).
    pub resource_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<IssueStatus>,
    pub created: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<DateTime<Utc>>,
}

/// Whether a message reached its sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its first try or for the next retry.
    Pending,
    Delivered,
    /// Every retry failed; given up.
    Failed,
}

/// One message to one integration: the outbox row, and the delivery log's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: DeliveryId,
    pub integration_id: IntegrationId,
    pub event_id: EventId,
    /// The event's subject, and for issues whether it opened or closed, as sent.
    pub summary: String,
    /// For an issue: whether this message says it opened or closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announces: Option<IssueStatus>,
    pub status: DeliveryStatus,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_shown_masked_and_short_ones_not_at_all() {
        assert_eq!(mask("whsec_0123456789abcdef"), "••••cdef");
        assert_eq!(mask("short"), "••••");
        let view = Sink::Webhook {
            url: "https://example.com/hook".into(),
            secret: "whsec_0123456789abcdef".into(),
        }
        .view();
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["sink"], "webhook");
        assert_eq!(json["secretDisplay"], "••••cdef");
        assert!(json.get("secret").is_none());
    }

    #[test]
    fn an_email_sink_reads_and_writes_the_same_flat_json_as_before() {
        let wire = serde_json::json!({
            "sink": "email",
            "smtpHost": "smtp.example.com",
            "smtpPort": 587,
            "from": "cairn@example.com",
            "to": ["ops@example.com"],
            "starttls": true
        });
        let sink: Sink = serde_json::from_value(wire.clone()).unwrap();
        let Sink::Email(mail) = &sink else {
            panic!("read as {sink:?}")
        };
        assert_eq!((mail.smtp_port, mail.username.as_deref()), (587, None));
        let mut written = serde_json::to_value(&sink).unwrap();
        let written = written.as_object_mut().unwrap();
        assert_eq!(written.remove("username"), Some(serde_json::Value::Null));
        assert_eq!(written.remove("password"), Some(serde_json::Value::Null));
        assert_eq!(serde_json::Value::Object(written.clone()), wire);
    }

    #[test]
    fn a_webhook_address_is_shown_without_its_credentials_or_query() {
        assert_eq!(
            without_credentials("https://bot:pw@hooks.example.com/in/abc?token=s3cret"),
            "https://hooks.example.com/in/abc?…"
        );
        assert_eq!(
            without_credentials("http://127.0.0.1:8080/hook"),
            "http://127.0.0.1:8080/hook"
        );
    }

    #[test]
    fn smtp_credentials_need_starttls_unless_the_relay_is_on_this_machine() {
        let sink = |host: &str, starttls| {
            Sink::Email(EmailSink {
                smtp_host: host.into(),
                smtp_port: 25,
                from: "cairn@example.com".into(),
                to: vec!["ops@example.com".into()],
                username: Some("cairn".into()),
                password: Some("pw".into()),
                starttls,
            })
        };
        assert!(sink("smtp.example.com", false)
            .check()
            .contains_key("data.starttls"));
        assert!(sink("smtp.example.com", true).check().is_empty());
        assert!(sink("127.0.0.1", false).check().is_empty());
    }

    #[test]
    fn a_sink_names_every_field_that_is_wrong() {
        let errors = Sink::Email(EmailSink {
            smtp_host: " ".into(),
            smtp_port: 0,
            from: "cairn".into(),
            to: vec![],
            username: None,
            password: None,
            starttls: false,
        })
        .check();
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            ["data.from", "data.smtpHost", "data.smtpPort", "data.to"]
        );
        let webhook = Sink::Webhook {
            url: "ftp://x".into(),
            secret: "short".into(),
        }
        .check();
        assert!(webhook.contains_key("data.url") && webhook.contains_key("data.secret"));
    }

    #[test]
    fn requests_read_kurrents_shape_with_the_sink_under_data() {
        let request: IntegrationRequest = serde_json::from_str(
            r#"{"description": "ops", "source": "notifications",
                "data": {"sink": "slack", "url": "https://hooks.slack.com/services/T/B/x"}}"#,
        )
        .unwrap();
        assert_eq!(request.source, EventSource::Notifications);
        assert_eq!(request.data.kind(), "slack");
    }
}
