//! Sends integrations' messages: webhooks (JSON, signed with HMAC-SHA256), Slack incoming
//! webhooks, and e-mail over SMTP. The core decides what to send and when; this only sends.

use cairn_core::events::{Deliverer, Outgoing};
use cairn_model::{EmailSink, Integration, IssueStatus, Sink};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// The header a webhook receiver checks: `sha256=<hex HMAC-SHA256 of the body, keyed by the
/// integration's secret>`.
pub const SIGNATURE_HEADER: &str = "X-Cairn-Signature";

/// `sha256=<hex>` of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The JSON a webhook receives.
pub fn webhook_body(message: &Outgoing) -> serde_json::Value {
    let event = &message.event;
    serde_json::json!({
        "deliveryId": message.delivery_id,
        "eventId": event.id,
        "kind": event.kind,
        "category": event.category,
        "status": message.announces,
        "subject": message.subject(),
        "message": event.message,
        "resourceId": event.resource_id,
        "organizationId": event.organization_id,
        "projectId": event.project_id,
        "created": event.created,
    })
}

pub struct SinkDeliverer {
    http: reqwest::Client,
}

impl SinkDeliverer {
    pub fn new() -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(cairn_core::events::DELIVERY_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            // A receiver that answers with a redirect is refused, not followed: integrations
            // post where they were told, not wherever a response points.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Cairn/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http })
    }

    async fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> Result<(), String> {
        let mut request = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.map_err(describe_http_error)?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered {}", status.as_u16()))
        }
    }

    async fn mail(&self, sink: &EmailSink, message: &Outgoing) -> Result<(), String> {
        use lettre::message::header::ContentType;
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
        let EmailSink {
            smtp_host,
            smtp_port,
            from,
            to,
            username,
            password,
            starttls,
        } = sink;
        let mut builder = Message::builder()
            .from(
                from.parse()
                    .map_err(|e| format!("from address {from}: {e}"))?,
            )
            .subject(format!("[Cairn] {}", message.subject()))
            .header(ContentType::TEXT_PLAIN);
        for address in to {
            builder = builder.to(address
                .parse()
                .map_err(|e| format!("to address {address}: {e}"))?);
        }
        let body = format!(
            "{}\n\n{}\n\nCategory: {}\nResource: {}\nProject: {}\nAt: {}\n",
            message.subject(),
            message.event.message,
            message.event.category,
            message.event.resource_id,
            message.event.project_id,
            message.event.created.to_rfc3339()
        );
        let email = builder.body(body).map_err(|e| e.to_string())?;
        let mut transport = if *starttls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(smtp_host)
                .map_err(|e| format!("SMTP server {smtp_host}: {e}"))?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp_host)
        }
        .port(*smtp_port)
        .timeout(Some(cairn_core::events::DELIVERY_TIMEOUT));
        if let (Some(user), Some(password)) = (username, password) {
            transport = transport.credentials(Credentials::new(user.clone(), password.clone()));
        }
        transport
            .build()
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP server {smtp_host}:{smtp_port}: {e}"))
    }
}

/// The reason a request failed, in words for the delivery log — never with the address,
/// which for Slack (and many webhooks) is itself the secret.
fn describe_http_error(error: reqwest::Error) -> String {
    if error.is_timeout() {
        "no answer in time".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        error.without_url().to_string()
    }
}

/// Slack reads `<…>` and `&` as markup (`<!channel>` pings everyone): text from resources is
/// escaped as Slack asks.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[async_trait::async_trait]
impl Deliverer for SinkDeliverer {
    async fn deliver(&self, integration: &Integration, message: &Outgoing) -> Result<(), String> {
        match &integration.sink {
            Sink::Webhook { url, secret } => {
                let body = serde_json::to_vec(&webhook_body(message)).map_err(|e| e.to_string())?;
                let headers = [
                    (SIGNATURE_HEADER, signature(secret, &body)),
                    ("X-Cairn-Event", message.event.category.clone()),
                    ("X-Cairn-Delivery", message.delivery_id.to_string()),
                ];
                self.post(url, body, &headers).await
            }
            Sink::Slack { url } => {
                let icon = match message.announces {
                    Some(IssueStatus::Closed) => "✅",
                    _ => "⚠️",
                };
                let text = format!(
                    "{icon} *{}*\n{}",
                    slack_escape(&message.subject()),
                    slack_escape(&message.event.message)
                );
                let body = serde_json::to_vec(&serde_json::json!({ "text": text }))
                    .map_err(|e| e.to_string())?;
                self.post(url, body, &[]).await
            }
            Sink::Email(mail) => self.mail(mail, message).await,
        }
    }
}

#[cfg(test)]
mod tests;
