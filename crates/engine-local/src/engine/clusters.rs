//! What the engine asks a cluster's running nodes: probes, starting what is not running,
//! their addresses, what the leader's log holds, and a new disk quota.

use std::time::Duration;

use cairn_core::ports::EngineError;
use cairn_model::{Cluster, ClusterAddresses};

use super::{failed, LocalEngine};
use crate::cluster::{ClusterLayout, Health};

impl LocalEngine {
    /// The cluster's health from real probes, with the reason when it is not `Ok`.
    pub async fn probe(&self, cluster: &Cluster) -> Result<Health, EngineError> {
        Ok(self.clusters.health(&self.layout(cluster)?).await)
    }

    /// Starts whatever node of any known cluster is not running (after a Cairn restart, say).
    pub async fn ensure_running(&self, cluster: &Cluster) -> Result<(), EngineError> {
        let layout = self.layout(cluster)?;
        self.clusters
            .ensure_running(&layout)
            .await
            .map(|_| ())
            .map_err(|e| failed("starting nodes", e))
    }

    /// Where the cluster's nodes listen.
    pub fn addresses(&self, cluster: &Cluster) -> Result<Vec<String>, EngineError> {
        Ok(self
            .layout(cluster)?
            .nodes
            .iter()
            .map(|n| n.address())
            .collect())
    }
}

pub(super) fn addresses(layout: &ClusterLayout) -> ClusterAddresses {
    let leader = format!("http://{}", layout.leader().address());
    ClusterAddresses {
        tcp: layout.nodes.iter().map(|n| n.address()).collect(),
        grpc: leader.clone(),
        ui: leader,
    }
}

/// The leader's events before `up_to` (all of them without it) and where they end.
pub(super) async fn stats(
    layout: &ClusterLayout,
    up_to: Option<u64>,
) -> Result<cairn_model::ClusterContents, EngineError> {
    let query = up_to.map(|p| format!("?upTo={p}")).unwrap_or_default();
    let url = format!("http://{}/stats{query}", layout.leader().address());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a plain HTTP client builds");
    let answer: serde_json::Value = client
        .get(&url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| failed("reading the cluster's contents", e))?
        .json()
        .await
        .map_err(|e| failed("reading the cluster's contents", e))?;
    let number = |key: &str| {
        answer[key].as_u64().ok_or_else(|| {
            failed(
                "reading the cluster's contents",
                format!("no {key} in {answer}"),
            )
        })
    };
    Ok(cairn_model::ClusterContents {
        event_count: number("eventCount")?,
        last_position: number("lastPosition")?,
    })
}

pub(super) async fn set_quota(layout: &ClusterLayout) -> Result<(), EngineError> {
    let client = reqwest::Client::new();
    for node in &layout.nodes {
        let response = client
            .put(format!("http://{}/quota", node.address()))
            .json(&serde_json::json!({ "bytes": layout.quota_bytes }))
            .send()
            .await
            .map_err(|e| failed("raising the disk quota", e))?;
        if !response.status().is_success() {
            return Err(failed("raising the disk quota", response.status()));
        }
    }
    Ok(())
}
