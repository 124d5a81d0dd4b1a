//! integrate/v1: integrations.

use super::{created, done, Answer, Created};
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

pub async fn get_integration(
    InProject { caller, scope, .. }: InProject<Reads>,
    PathId(id): PathId<IntegrationId>,
) -> Answer {
    let integration = caller.services().get_integration(&scope, &id).await?;
    Ok(Json(json!({ "integration": integration.view() })))
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

pub async fn delete_integration(
    InProject { caller, scope, .. }: InProject<Operates>,
    PathId(id): PathId<IntegrationId>,
) -> Answer {
    caller.services().delete_integration(&scope, &id).await?;
    done()
}

/// Sends a sample message now; a sink that refuses it is reported in the delivery (200), not
/// as an API error: the call itself worked.
pub async fn test_integration(
    InProject { caller, scope, .. }: InProject<Operates>,
    PathId(id): PathId<IntegrationId>,
) -> Answer {
    let delivery = caller.services().test_integration(&scope, &id).await?;
    Ok(Json(json!({ "delivery": delivery })))
}
