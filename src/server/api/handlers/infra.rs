//! infra/v1: networks.

use super::{by_id, created, done, Answer, Created};
use crate::server::api::problem::JsonBody;
use crate::server::api::{wire, InProject, Operates, PathId, Reads};
use axum::Json;
use cairn_model::{NetworkId, NetworkStatus};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
pub struct DescriptionRequest {
    description: String,
}

pub async fn create_network(
    InProject { caller, scope, .. }: InProject<Operates>,
    body: JsonBody<cairn_core::CreateNetworkRequest>,
) -> Created {
    let network = caller
        .services()
        .create_network(&scope, body.read()?)
        .await?;
    created(network.id)
}

pub async fn list_networks(InProject { caller, scope, .. }: InProject<Reads>) -> Answer {
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

by_id!(get_network: Reads, NetworkId => get_network() => "network" as wire::network);

pub async fn update_network(
    InProject { caller, scope, .. }: InProject<Operates>,
    PathId(id): PathId<NetworkId>,
    body: JsonBody<DescriptionRequest>,
) -> Answer {
    caller
        .services()
        .describe_network(&scope, &id, &body.read()?.description)
        .await?;
    done()
}

by_id!(delete_network: Operates, NetworkId => delete_network() => {});
