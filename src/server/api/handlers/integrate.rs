//! integrate/v1: integrations.

use super::{by_id, created, done, Answer, Created};
use crate::server::api::problem::JsonBody;
use crate::server::api::{InProject, Operates, PathId, Reads};
use axum::Json;
use cairn_model::IntegrationId;
use serde_json::json;

pub async fn create_integration(
    InProject { caller, scope, .. }: InProject<Operates>,
    body: JsonBody<cairn_model::IntegrationRequest>,
) -> Created {
    let integration = caller
        .services()
        .create_integration(&scope, body.read()?)
        .await?;
    created(integration.id)
}

pub async fn list_integrations(InProject { caller, scope, .. }: InProject<Reads>) -> Answer {
    let integrations: Vec<_> = caller
        .services()
        .list_integrations(&scope)
        .await?
        .iter()
        .map(cairn_model::Integration::view)
        .collect();
    Ok(Json(json!({ "integrations": integrations })))
}

by_id! {
    get_integration: Reads, IntegrationId => get_integration()
        => "integration" as cairn_model::Integration::view
}

pub async fn update_integration(
    InProject { caller, scope, .. }: InProject<Operates>,
    PathId(id): PathId<IntegrationId>,
    body: JsonBody<cairn_model::IntegrationRequest>,
) -> Answer {
    caller
        .services()
        .update_integration(&scope, &id, body.read()?)
        .await?;
    done()
}

by_id!(delete_integration: Operates, IntegrationId => delete_integration() => {});

by_id! {
    /// Sends a sample message now; a sink that refuses it is reported in the delivery (200),
    /// not as an API error: the call itself worked.
    test_integration: Operates, IntegrationId => test_integration() => "delivery"
}

/// The project's events, a page at a time (newest first unless `order=asc`).
pub async fn list_events(
    InProject { caller, scope, .. }: InProject<Reads>,
    query: super::PageParams,
) -> crate::server::api::problem::ApiResult<axum::response::Response> {
    let request = cairn_core::paging::page_request(&super::page_query(query)?)?;
    let page = caller.services().page_events(&scope, &request).await?;
    Ok(super::paged(
        "events",
        &page.items,
        page.next_token.as_deref(),
    ))
}
