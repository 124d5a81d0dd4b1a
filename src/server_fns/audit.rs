//! The project's audit log, a page at a time.

use crate::error::ConsoleError;
use cairn_model::AuditPage;
#[cfg(feature = "ssr")]
use cairn_model::{AuditFilter, AuditId};
use leptos::prelude::*;

/// A page of the project's audit, newest first: entries by `actor` (an email, say), about
/// `resource` (an id), of `action` (or every action of a kind), older than the entry `after`.
/// Empty texts filter nothing.
#[server(endpoint = "audit/list")]
pub async fn list_audit(
    #[server(default)] actor: String,
    #[server(default)] resource: String,
    #[server(default)] action: String,
    #[server(default)] after: String,
) -> Result<AuditPage, ConsoleError> {
    let (console, scope) = crate::server::authorized().await?;
    let after = match after.trim() {
        "" => None,
        text => Some(super::parse_id("after", text, AuditId::parse)?),
    };
    let filter = AuditFilter {
        actor: Some(actor),
        resource: Some(resource),
        action: Some(action),
        limit: 0,
        after,
        ..AuditFilter::default()
    };
    Ok(console.services.audit(&scope, filter).await?)
}
