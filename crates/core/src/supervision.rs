//! Supervision: every available cluster's nodes brought up when this instance starts, and its
//! health probed every few seconds and stored when it changes (what the console shows, and what
//! decides whether a backup may start).

use std::future::Future;
use std::time::Duration;

use cairn_model::{ClusterHealth, ClusterStatus};

use crate::error::Result;
use crate::services::Services;

/// How often clusters are probed.
pub const PROBE_EVERY: Duration = Duration::from_secs(3);

impl Services {
    /// Asks the engine to bring up every available cluster's nodes; returns how many it asked
    /// about. One cluster failing does not stop the others (it is logged).
    pub async fn resume_clusters(&self) -> Result<usize> {
        let Ok(engine) = self.engine() else {
            return Ok(0);
        };
        let clusters = self
            .inner()
            .store
            .clusters_with_status(ClusterStatus::Available)
            .await?;
        for cluster in &clusters {
            if let Err(error) = engine.resume(cluster).await {
                tracing::error!(cluster.id = %cluster.id, %error, "could not bring the cluster's nodes up");
            }
        }
        Ok(clusters.len())
    }

    /// Probes every available cluster once: remembers its nodes (what its page shows) and
    /// stores each health that changed; returns how many changed. A probe that fails is
    /// stored as `HealthReportingError`.
    pub async fn probe_clusters(&self) -> Result<usize> {
        let Ok(engine) = self.engine() else {
            return Ok(0);
        };
        let store = &self.inner().store;
        let mut changed = 0;
        for cluster in store.clusters_with_status(ClusterStatus::Available).await? {
            let health = engine.health(&cluster).await.unwrap_or_else(|error| {
                tracing::warn!(cluster.id = %cluster.id, %error, "cluster health could not be read");
                ClusterHealth::HealthReportingError
            });
            match engine.nodes(&cluster).await {
                Ok(nodes) => self.record_probe(&cluster, nodes),
                Err(error) => {
                    tracing::warn!(cluster.id = %cluster.id, %error, "nodes could not be probed")
                }
            }
            if health != cluster.health {
                tracing::info!(cluster.id = %cluster.id, from = ?cluster.health, to = ?health, "cluster health changed");
                let patch = crate::ports::ClusterPatch {
                    health: Some(health),
                    ..Default::default()
                };
                store.patch_cluster(&cluster.id, &patch).await?;
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Asks the engine to bring up the nodes of every available cluster whose stored health is
    /// not `Ok` (the engine starts only nodes whose process is gone); returns how many it asked
    /// about. This is how a crashed node comes back without anyone restarting Cairn.
    pub async fn heal_clusters(&self) -> Result<usize> {
        let Ok(engine) = self.engine() else {
            return Ok(0);
        };
        let mut asked = 0;
        for cluster in self
            .inner()
            .store
            .clusters_with_status(ClusterStatus::Available)
            .await?
        {
            if cluster.health == ClusterHealth::Ok {
                continue;
            }
            asked += 1;
            if let Err(error) = engine.resume(&cluster).await {
                tracing::error!(cluster.id = %cluster.id, %error, "could not bring the cluster's nodes up");
            }
        }
        Ok(asked)
    }

    /// Until `shutdown`: resume every cluster once, then probe every [`PROBE_EVERY`] and heal
    /// what is not healthy.
    pub async fn run_supervision(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        logged!(self.resume_clusters().await, "could not resume clusters");
        loop {
            logged!(self.probe_clusters().await, "could not probe clusters");
            logged!(self.heal_clusters().await, "could not heal clusters");
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(PROBE_EVERY) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::EngineError;
    use crate::testkit::fixture;

    #[tokio::test]
    async fn a_probe_stores_each_clusters_health_when_it_changes_and_only_then() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        let stored = || async {
            f.services
                .inner()
                .store
                .cluster(&cluster.project_id, &cluster.id)
                .await
                .unwrap()
                .unwrap()
                .health
        };

        assert_eq!(
            f.services.probe_clusters().await.unwrap(),
            0,
            "Ok, as stored"
        );
        f.engine
            .set_health(&cluster.id, Ok(ClusterHealth::Degraded));
        assert_eq!(f.services.probe_clusters().await.unwrap(), 1);
        assert_eq!(stored().await, ClusterHealth::Degraded);
        assert_eq!(
            f.services.probe_clusters().await.unwrap(),
            0,
            "unchanged: nothing written"
        );
        f.engine.set_health(
            &cluster.id,
            Err(EngineError::Failed("probe timed out".into())),
        );
        f.services.probe_clusters().await.unwrap();
        assert_eq!(stored().await, ClusterHealth::HealthReportingError);
        f.engine.set_health(&cluster.id, Ok(ClusterHealth::Ok));
        f.services.probe_clusters().await.unwrap();
        assert_eq!(stored().await, ClusterHealth::Ok);
    }

    #[tokio::test]
    async fn starting_supervision_resumes_every_available_cluster() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;

        assert_eq!(f.services.resume_clusters().await.unwrap(), 1);

        assert_eq!(f.engine.resumed(), vec![cluster.id]);
    }

    #[tokio::test]
    async fn healing_asks_the_engine_about_unhealthy_clusters_only() {
        let f = fixture().await;
        let healthy = f.available_cluster().await;
        let sick = f.available_cluster().await;
        f.engine.set_health(&sick.id, Ok(ClusterHealth::Degraded));
        f.services.probe_clusters().await.unwrap();

        assert_eq!(f.services.heal_clusters().await.unwrap(), 1);

        assert_eq!(f.engine.resumed(), vec![sick.id]);
        assert!(!f.engine.resumed().contains(&healthy.id));
    }
}
