//! integrate/v1: integrations.

use super::{created, done, id, Answer, Created};
use crate::server::api::problem::JsonBody;
use crate::server::api::Caller;
use axum::extract::Path;
use axum::Json;
use cairn_model::Permission;
use serde_json::json;
use Permission::{Operate, Read};

fn integration_id(text: &str) -> Result<cairn_model::IntegrationId, cairn_core::Error> {
    id("integration", text, cairn_model::IntegrationId::parse)
}

pub async fn create_integration(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    body: JsonBody<cairn_model::IntegrationRequest>,
) -> Created {
    let scope = caller.scope(&org, &project, Operate).await?;
    let integration = caller
        .services()
        .create_integration(&scope, body.read()?)
        .await?;
    created(integration.id)
}

pub async fn list_integrations(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Read).await?;
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
    caller: Caller,
    Path((org, project, integration)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Read).await?;
    let id = integration_id(&integration)?;
    let integration = caller.services().get_integration(&scope, &id).await?;
    Ok(Json(json!({ "integration": integration.view() })))
}

pub async fn update_integration(
    caller: Caller,
    Path((org, project, integration)): Path<(String, String, String)>,
    body: JsonBody<cairn_model::IntegrationRequest>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = integration_id(&integration)?;
    caller
        .services()
        .update_integration(&scope, &id, body.read()?)
        .await?;
    done()
}

pub async fn delete_integration(
    caller: Caller,
    Path((org, project, integration)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = integration_id(&integration)?;
    caller.services().delete_integration(&scope, &id).await?;
    done()
}

/// Sends a sample message now; a sink that refuses it is reported in the delivery (200), not
/// as an API error: the call itself worked.
pub async fn test_integration(
    caller: Caller,
    Path((org, project, integration)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = integration_id(&integration)?;
    let delivery = caller.services().test_integration(&scope, &id).await?;
    Ok(Json(json!({ "delivery": delivery })))
}
