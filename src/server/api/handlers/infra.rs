//! infra/v1: networks.

use super::{created, done, id, Answer, Created};
use crate::server::api::problem::JsonBody;
use crate::server::api::{wire, Caller};
use axum::extract::Path;
use axum::Json;
use cairn_model::{NetworkId, NetworkStatus, Permission};
use serde::Deserialize;
use serde_json::{json, Value};
use Permission::{Operate, Read};

#[derive(Debug, Deserialize)]
pub struct DescriptionRequest {
    description: String,
}

pub async fn create_network(
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    body: JsonBody<cairn_core::CreateNetworkRequest>,
) -> Created {
    let scope = caller.scope(&org, &project, Operate).await?;
    let network = caller
        .services()
        .create_network(&scope, body.read()?)
        .await?;
    created(network.id)
}

pub async fn list_networks(caller: Caller, Path((org, project)): Path<(String, String)>) -> Answer {
    let scope = caller.scope(&org, &project, Read).await?;
    let networks: Vec<Value> = caller
        .services()
        .list_networks(&scope)
        .await?
        .iter()
        .filter(|n| n.status != NetworkStatus::Deleted)
        .map(wire::network)
        .collect();
    Ok(Json(json!({ "networks": networks })))
}

pub async fn get_network(
    caller: Caller,
    Path((org, project, network)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Read).await?;
    let id = id("network", &network, NetworkId::parse)?;
    let network = caller.services().get_network(&scope, &id).await?;
    Ok(Json(json!({ "network": wire::network(&network) })))
}

pub async fn update_network(
    caller: Caller,
    Path((org, project, network)): Path<(String, String, String)>,
    body: JsonBody<DescriptionRequest>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = id("network", &network, NetworkId::parse)?;
    caller
        .services()
        .describe_network(&scope, &id, &body.read()?.description)
        .await?;
    done()
}

pub async fn delete_network(
    caller: Caller,
    Path((org, project, network)): Path<(String, String, String)>,
) -> Answer {
    let scope = caller.scope(&org, &project, Operate).await?;
    let id = id("network", &network, NetworkId::parse)?;
    caller.services().delete_network(&scope, &id).await?;
    done()
}
