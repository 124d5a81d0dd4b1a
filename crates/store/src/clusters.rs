//! Clusters, their locks and the instances' heartbeats ([`ClusterStore`]).

use crate::rows::{wire_text, ClusterRow, LockRow, CLUSTER_COLUMNS, LOCK_COLUMNS};
use crate::{to_json, Db, InProject, SqlStore};
use async_trait::async_trait;
use cairn_core::{
    ClusterLock, ClusterPatch, ClusterStore, Error as CoreError, LockOutcome, Result as CoreResult,
};
use cairn_model::{Cluster, ClusterId, ClusterStatus, ProjectId};
use chrono::{DateTime, Utc};

impl InProject<Cluster> for ClusterRow {
    const TABLE: &'static str = "clusters";
    const COLUMNS: &'static str = CLUSTER_COLUMNS;
}

#[async_trait]
impl ClusterStore for SqlStore {
    async fn clusters(&self, project: &ProjectId) -> CoreResult<Vec<Cluster>> {
        self.live_in_project::<ClusterRow, _>(project).await
    }

    async fn cluster(&self, project: &ProjectId, id: &ClusterId) -> CoreResult<Option<Cluster>> {
        self.in_project::<ClusterRow, _>(project, id.as_str()).await
    }

    async fn insert_cluster(&self, c: &Cluster) -> CoreResult<()> {
        let sql = format!(
            "INSERT INTO clusters ({CLUSTER_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19, $20)"
        );
        let addresses = to_json(&c.addresses)?;
        execute!(
            self,
            &sql,
            c.id.as_str(),
            c.organization_id.as_str(),
            c.project_id.as_str(),
            c.network_id.as_str(),
            &c.description,
            &c.provider,
            &c.region,
            wire_text(&c.topology),
            wire_text(&c.instance_type),
            i64::from(c.disk_size_gb),
            &c.disk_type,
            &c.server_version,
            &c.server_version_tag,
            wire_text(&c.projection_level),
            c.status.as_str(),
            c.health.as_str(),
            c.protected,
            c.created,
            c.source_backup_id.as_ref().map(|id| id.as_str()),
            &addresses,
        );
        Ok(())
    }

    async fn patch_cluster(&self, id: &ClusterId, patch: &ClusterPatch) -> CoreResult<bool> {
        let addresses = patch.addresses.as_ref().map(to_json).transpose()?;
        let (version, tag) = match &patch.server_version {
            Some((version, tag)) => (Some(version.as_str()), Some(tag.as_str())),
            None => (None, None),
        };
        let updated = execute!(
            self,
            "UPDATE clusters SET status = COALESCE($2, status), health = COALESCE($3, health),
                    addresses = COALESCE($4, addresses), disk_size_gb = COALESCE($5, disk_size_gb),
                    instance_type = COALESCE($6, instance_type),
                    server_version = COALESCE($7, server_version),
                    server_version_tag = COALESCE($8, server_version_tag),
                    description = COALESCE($9, description), protected = COALESCE($10, protected)
             WHERE id = $1",
            id.as_str(),
            patch.status.map(|s| s.as_str()),
            patch.health.map(|h| h.as_str()),
            addresses.as_deref(),
            patch.disk_size_gb.map(i64::from),
            patch.instance_type.as_ref().map(wire_text),
            version,
            tag,
            patch.description.as_deref(),
            patch.protected,
        );
        Ok(updated == 1)
    }

    async fn clusters_with_status(&self, status: ClusterStatus) -> CoreResult<Vec<Cluster>> {
        let sql = format!(
            "SELECT {CLUSTER_COLUMNS} FROM clusters WHERE status = $1 ORDER BY created, id"
        );
        self.all::<ClusterRow, _>(&sql, &[status.as_str()]).await
    }

    async fn acquire_lock(&self, lock: &ClusterLock) -> CoreResult<LockOutcome> {
        // Insert-if-absent is the whole lock: the primary key makes exactly one insert win,
        // across connections and instances. A loser reads the holder; if that lock was released
        // in between, it tries again.
        let insert = format!(
            "INSERT INTO cluster_locks ({LOCK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (cluster_id) DO NOTHING"
        );
        let holder = format!("SELECT {LOCK_COLUMNS} FROM cluster_locks WHERE cluster_id = $1");
        for _ in 0..3 {
            let inserted = execute!(
                self,
                &insert,
                lock.cluster_id.as_str(),
                lock.kind.as_str(),
                &lock.holder_id,
                lock.job_id.as_ref().map(|id| id.as_str()),
                lock.acquired_at,
                &lock.owner,
            );
            if inserted == 1 {
                return Ok(LockOutcome::Acquired);
            }
            let held = self
                .one::<LockRow, _>(&holder, &[lock.cluster_id.as_str()])
                .await?;
            if let Some(holder) = held {
                return Ok(LockOutcome::HeldBy(holder));
            }
        }
        Err(CoreError::Unavailable(format!(
            "the lock of cluster {} changed hands too often to be taken; try again",
            lock.cluster_id
        )))
    }

    async fn release_lock(&self, cluster: &ClusterId, holder_id: &str) -> CoreResult<bool> {
        let sql = "DELETE FROM cluster_locks WHERE cluster_id = $1 AND holder_id = $2";
        Ok(execute!(self, sql, cluster.as_str(), holder_id) > 0)
    }

    async fn locks(&self) -> CoreResult<Vec<ClusterLock>> {
        let sql = format!("SELECT {LOCK_COLUMNS} FROM cluster_locks ORDER BY acquired_at");
        self.all::<LockRow, _>(&sql, &[]).await
    }

    async fn heartbeat(&self, instance: &str, at: DateTime<Utc>) -> CoreResult<()> {
        execute!(
            self,
            "INSERT INTO instances (id, heartbeat_at) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
            instance,
            at,
        );
        let gone = "DELETE FROM instances WHERE heartbeat_at < $1";
        execute!(self, gone, at - chrono::TimeDelta::days(1));
        Ok(())
    }

    async fn heartbeats(&self) -> CoreResult<Vec<(String, DateTime<Utc>)>> {
        let rows: Vec<(String, DateTime<Utc>)> = self
            .fetch_all("SELECT id, heartbeat_at FROM instances", &[])
            .await?;
        Ok(rows)
    }
}
