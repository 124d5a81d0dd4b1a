//! Integrations (where failures and issues are sent) and the events page.

use crate::error::ConsoleError;
use cairn_model::{
    Delivery, EmailSink, Event, EventSource, IntegrationView, Page, PageQuery, Sink,
};
#[cfg(feature = "ssr")]
use cairn_model::{IntegrationId, Permission};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The create form as typed: every field text (posted as `form[url]` and so on), one set of
/// fields per sink; only the chosen sink's are read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationForm {
    pub description: String,
    pub source: String,
    pub sink: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub secret: String,
    #[serde(default)]
    pub slack_url: String,
    #[serde(default)]
    pub smtp_host: String,
    #[serde(default)]
    pub smtp_port: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub starttls: Option<String>,
}

impl IntegrationForm {
    /// The API request, or every field error at once (keyed as the API keys them).
    pub fn request(&self) -> Result<cairn_model::IntegrationRequest, ConsoleError> {
        let source = match self.source.as_str() {
            "issues" => EventSource::Issues,
            _ => EventSource::Notifications,
        };
        let text = |s: &str| s.trim().to_owned();
        let optional = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let data = match self.sink.as_str() {
            "webhook" => Sink::Webhook {
                url: text(&self.url),
                secret: self.secret.clone(),
            },
            "slack" => Sink::Slack {
                url: text(&self.slack_url),
            },
            "email" => Sink::Email(EmailSink {
                smtp_host: text(&self.smtp_host),
                smtp_port: self.smtp_port.trim().parse().map_err(|_| {
                    ConsoleError::invalid(
                        "data.smtpPort",
                        format!("'{}' is not a port number", self.smtp_port),
                    )
                })?,
                from: text(&self.from),
                to: self
                    .to
                    .split([',', ';', ' '])
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect(),
                username: optional(&self.username),
                password: Some(self.password.clone()).filter(|p| !p.is_empty()),
                starttls: self.starttls.is_some(),
            }),
            other => {
                return Err(ConsoleError::invalid(
                    "data.sink",
                    format!("'{other}': choose webhook, Slack or e-mail"),
                ))
            }
        };
        Ok(cairn_model::IntegrationRequest {
            description: self.description.clone(),
            source,
            data,
        })
    }
}

#[server(endpoint = "integrations/list")]
pub async fn list_integrations() -> Result<Vec<IntegrationView>, ConsoleError> {
    let (console, scope) = crate::server::authorized().await?;
    Ok(console
        .services
        .list_integrations(&scope)
        .await?
        .iter()
        .map(cairn_model::Integration::view)
        .collect())
}

/// An integration and its delivery log (newest first).
#[server(endpoint = "integrations/get")]
pub async fn get_integration(id: String) -> Result<(IntegrationView, Vec<Delivery>), ConsoleError> {
    let (console, scope, id) =
        super::authorized_id(Permission::Read, &id, IntegrationId::parse).await?;
    let integration = console.services.get_integration(&scope, &id).await?;
    let log = console
        .services
        .integration_deliveries(&scope, &id, 100)
        .await?;
    Ok((integration.view(), log))
}

#[server(endpoint = "integrations/create")]
pub async fn create_integration(form: IntegrationForm) -> Result<IntegrationView, ConsoleError> {
    let (console, scope) = crate::server::authorized().await?;
    let request = form
        .request()
        .map_err(|fault| super::judged(&scope, Permission::Operate, fault))?;
    let integration = console
        .services
        .create_integration(&scope, &request)
        .await?;
    super::go_with_notice(
        &format!("/integrations/{}", integration.id),
        &format!(
            "Integration “{}” created: send a test to check it.",
            integration.description
        ),
    );
    Ok(integration.view())
}

/// Sends a sample message now; the notice says how it went.
#[server(endpoint = "integrations/test")]
pub async fn test_integration(id: String) -> Result<Delivery, ConsoleError> {
    let (console, scope, id) =
        super::authorized_id(Permission::Operate, &id, IntegrationId::parse).await?;
    let delivery = console.services.test_integration(&scope, &id).await?;
    let notice = match &delivery.last_error {
        None => "Test message delivered.".to_owned(),
        Some(error) => format!("The test message was not delivered: {error}."),
    };
    super::back_with_notice(&format!("/integrations/{id}"), &notice).await;
    Ok(delivery)
}

#[server(endpoint = "integrations/delete")]
pub async fn delete_integration(id: String) -> Result<(), ConsoleError> {
    let (console, scope, id) =
        super::authorized_id(Permission::Operate, &id, IntegrationId::parse).await?;
    console.services.delete_integration(&scope, &id).await?;
    super::go_with_notice(
        "/integrations",
        "Integration deleted; messages still queued for it are not sent.",
    );
    Ok(())
}

/// A page of the project's issues and notifications, as the address asks.
#[server(endpoint = "events/page")]
pub async fn page_events(query: PageQuery) -> Result<Page<Event>, ConsoleError> {
    let (console, scope) = crate::server::authorized().await?;
    let request = cairn_core::paging::page_request(&query)?;
    Ok(console.services.page_events(&scope, &request).await?)
}
