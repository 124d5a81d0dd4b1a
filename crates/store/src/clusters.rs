//! Clusters, their locks and the instances' heartbeats ([`ClusterStore`]).

use crate::rows::{wire_text, ClusterRow, LockRow, CLUSTER_COLUMNS, LOCK_COLUMNS};
use crate::{Db, SqlStore};
use async_trait::async_trait;
use cairn_core::{
    ClusterLock, ClusterPatch, ClusterStore, Error as CoreError, LockOutcome, Result as CoreResult,
};
use cairn_model::{Cluster, ClusterId, ClusterStatus, ProjectId};
use chrono::{DateTime, Utc};

#[async_trait]
impl ClusterStore for SqlStore {
    async fn clusters(&self, project: &ProjectId) -> CoreResult<Vec<Cluster>> {
        let sql = format!(
            "SELECT {CLUSTER_COLUMNS} FROM clusters
             WHERE project_id = $1 AND status <> 'deleted' ORDER BY created, id"
        );
        let rows: Vec<ClusterRow> = self.fetch_all(&sql, &[project.as_str()]).await?;
        rows.into_iter().map(ClusterRow::into_model).collect()
    }

    async fn cluster(&self, project: &ProjectId, id: &ClusterId) -> CoreResult<Option<Cluster>> {
        let sql =
            format!("SELECT {CLUSTER_COLUMNS} FROM clusters WHERE project_id = $1 AND id = $2");
        let row: Option<ClusterRow> = self
            .fetch_optional(&sql, &[project.as_str(), id.as_str()])
            .await?;
        row.map(ClusterRow::into_model).transpose()
    }

    async fn insert_cluster(&self, c: &Cluster) -> CoreResult<()> {
        let sql = format!(
            "INSERT INTO clusters ({CLUSTER_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19, $20)"
        );
        let addresses = serde_json::to_string(&c.addresses).map_err(CoreError::internal)?;
        on_pool!(&self.pool, |p| sqlx::query(&sql)
            .bind(c.id.as_str())
            .bind(c.organization_id.as_str())
            .bind(c.project_id.as_str())
            .bind(c.network_id.as_str())
            .bind(&c.description)
            .bind(&c.provider)
            .bind(&c.region)
            .bind(wire_text(&c.topology))
            .bind(wire_text(&c.instance_type))
            .bind(i64::from(c.disk_size_gb))
            .bind(&c.disk_type)
            .bind(&c.server_version)
            .bind(&c.server_version_tag)
            .bind(wire_text(&c.projection_level))
            .bind(c.status.as_str())
            .bind(c.health.as_str())
            .bind(c.protected)
            .bind(c.created)
            .bind(c.source_backup_id.as_ref().map(|id| id.as_str()))
            .bind(&addresses)
            .execute(p)
            .await
            .db()?
            .rows_affected());
        Ok(())
    }

    async fn patch_cluster(&self, id: &ClusterId, patch: &ClusterPatch) -> CoreResult<bool> {
        let addresses = patch
            .addresses
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(CoreError::internal)?;
        let (version, tag) = match &patch.server_version {
            Some((version, tag)) => (Some(version.as_str()), Some(tag.as_str())),
            None => (None, None),
        };
        let updated = on_pool!(&self.pool, |p| sqlx::query(
            "UPDATE clusters SET status = COALESCE($2, status), health = COALESCE($3, health),
                    addresses = COALESCE($4, addresses), disk_size_gb = COALESCE($5, disk_size_gb),
                    instance_type = COALESCE($6, instance_type),
                    server_version = COALESCE($7, server_version),
                    server_version_tag = COALESCE($8, server_version_tag),
                    description = COALESCE($9, description), protected = COALESCE($10, protected)
             WHERE id = $1"
        )
        .bind(id.as_str())
        .bind(patch.status.map(|s| s.as_str()))
        .bind(patch.health.map(|h| h.as_str()))
        .bind(addresses.as_deref())
        .bind(patch.disk_size_gb.map(i64::from))
        .bind(patch.instance_type.as_ref().map(wire_text))
        .bind(version)
        .bind(tag)
        .bind(patch.description.as_deref())
        .bind(patch.protected)
        .execute(p)
        .await
        .db()?
        .rows_affected());
        Ok(updated == 1)
    }

    async fn clusters_with_status(&self, status: ClusterStatus) -> CoreResult<Vec<Cluster>> {
        let sql = format!(
            "SELECT {CLUSTER_COLUMNS} FROM clusters WHERE status = $1 ORDER BY created, id"
        );
        let rows: Vec<ClusterRow> = self.fetch_all(&sql, &[status.as_str()]).await?;
        rows.into_iter().map(ClusterRow::into_model).collect()
    }

    async fn acquire_lock(&self, lock: &ClusterLock) -> CoreResult<LockOutcome> {
        // Insert-if-absent is the whole lock: the primary key makes exactly one insert win,
        // across connections and instances. A loser reads the holder; if that lock was released
        // in between, it tries again.
        for _ in 0..3 {
            let inserted = on_pool!(&self.pool, |p| sqlx::query(&format!(
                "INSERT INTO cluster_locks ({LOCK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (cluster_id) DO NOTHING"
            ))
            .bind(lock.cluster_id.as_str())
            .bind(lock.kind.as_str())
            .bind(&lock.holder_id)
            .bind(lock.job_id.as_ref().map(|id| id.as_str()))
            .bind(lock.acquired_at)
            .bind(&lock.owner)
            .execute(p)
            .await
            .db()?
            .rows_affected());
            if inserted == 1 {
                return Ok(LockOutcome::Acquired);
            }
            let holder: Option<LockRow> = self
                .fetch_optional(
                    &format!("SELECT {LOCK_COLUMNS} FROM cluster_locks WHERE cluster_id = $1"),
                    &[lock.cluster_id.as_str()],
                )
                .await?;
            if let Some(holder) = holder {
                return Ok(LockOutcome::HeldBy(holder.into_model()?));
            }
        }
        Err(CoreError::Unavailable(format!(
            "the lock of cluster {} changed hands too often to be taken; try again",
            lock.cluster_id
        )))
    }

    async fn release_lock(&self, cluster: &ClusterId, holder_id: &str) -> CoreResult<bool> {
        let deleted = on_pool!(&self.pool, |p| sqlx::query(
            "DELETE FROM cluster_locks WHERE cluster_id = $1 AND holder_id = $2"
        )
        .bind(cluster.as_str())
        .bind(holder_id)
        .execute(p)
        .await
        .db()?
        .rows_affected());
        Ok(deleted > 0)
    }

    async fn locks(&self) -> CoreResult<Vec<ClusterLock>> {
        let sql = format!("SELECT {LOCK_COLUMNS} FROM cluster_locks ORDER BY acquired_at");
        let rows: Vec<LockRow> = self.fetch_all(&sql, &[]).await?;
        rows.into_iter().map(LockRow::into_model).collect()
    }

    async fn heartbeat(&self, instance: &str, at: DateTime<Utc>) -> CoreResult<()> {
        on_pool!(&self.pool, |p| {
            sqlx::query(
                "INSERT INTO instances (id, heartbeat_at) VALUES ($1, $2)
                 ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
            )
            .bind(instance)
            .bind(at)
            .execute(p)
            .await
            .db()?;
            sqlx::query("DELETE FROM instances WHERE heartbeat_at < $1")
                .bind(at - chrono::TimeDelta::days(1))
                .execute(p)
                .await
                .db()?
                .rows_affected()
        });
        Ok(())
    }

    async fn heartbeats(&self) -> CoreResult<Vec<(String, DateTime<Utc>)>> {
        let rows: Vec<(String, DateTime<Utc>)> = self
            .fetch_all("SELECT id, heartbeat_at FROM instances", &[])
            .await?;
        Ok(rows)
    }
}
