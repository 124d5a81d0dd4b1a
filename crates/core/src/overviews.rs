//! Reads for the console's pages: an entity with what belongs to it, in one call, so a page
//! is one request and one render.

use crate::error::Result;
use crate::services::{Scope, Services};
use cairn_model::schedule::Schedule;
use cairn_model::Permission;
use cairn_model::{ClusterId, ClusterOverview, Job, JobDetail, JobId, JobOverview, JobStatus};

impl Services {
    /// A cluster with its nodes (as supervision last probed them: a page never probes), its
    /// backups, its lock holder and the index its next backup's label will use.
    pub async fn cluster_overview(&self, scope: &Scope, id: &ClusterId) -> Result<ClusterOverview> {
        scope.require(Permission::Read)?;
        let cluster = self.get_cluster(scope, id).await?;
        let store = &self.inner().store;
        let (nodes, nodes_probed_at) = self.probed_nodes(&cluster.id);
        let mut backups: Vec<_> = self
            .list_backups(scope)
            .await?
            .into_iter()
            .filter(|b| b.source_cluster_id == cluster.id)
            .collect();
        backups.sort_by_key(|b| std::cmp::Reverse(b.created));
        let lock = store
            .locks()
            .await?
            .into_iter()
            .find(|l| l.cluster_id == cluster.id)
            .map(|l| l.to_string());
        let next_backup_index = store.count_backups_of_cluster(&cluster.id).await? + 1;
        let restored_from = self.restored_from(scope, &cluster).await?;
        Ok(ClusterOverview {
            cluster,
            nodes,
            nodes_probed_at,
            backups,
            lock,
            next_backup_index,
            restored_from,
        })
    }

    /// Every job of the project with its cluster's name, next run and last run; deleted jobs
    /// last.
    pub async fn job_overviews(&self, scope: &Scope) -> Result<Vec<JobOverview>> {
        scope.require(Permission::Read)?;
        let clusters = self.list_clusters(scope).await?;
        let mut last_runs = self.inner().store.last_runs(&scope.project_id).await?;
        let mut overviews = Vec::new();
        for job in self.list_jobs(scope).await? {
            let last = last_runs.remove(&job.id);
            overviews.push(self.overview(job, &clusters, last));
        }
        overviews.sort_by_key(|o| (o.job.status == JobStatus::Deleted, o.job.created));
        Ok(overviews)
    }

    /// A job with its backups and latest runs ([`crate::jobs::HISTORY_ON_PAGE`]), newest first.
    pub async fn job_detail(&self, scope: &Scope, id: &JobId) -> Result<JobDetail> {
        scope.require(Permission::Read)?;
        let job = self.get_job(scope, id).await?;
        let clusters = self.list_clusters(scope).await?;
        let history = self
            .inner()
            .store
            .history(&job.id, crate::jobs::HISTORY_ON_PAGE)
            .await?;
        let overview = self.overview(job, &clusters, history.first().cloned());
        let mut backups: Vec<_> = self
            .list_backups(scope)
            .await?
            .into_iter()
            .filter(|b| b.linked_resource.as_ref() == Some(&overview.job.id))
            .collect();
        backups.sort_by_key(|b| std::cmp::Reverse(b.created));
        Ok(JobDetail {
            overview,
            backups,
            history,
        })
    }

    pub(crate) fn overview(
        &self,
        job: Job,
        clusters: &[cairn_model::Cluster],
        last_run: Option<cairn_model::HistoryItem>,
    ) -> JobOverview {
        let cluster_description = clusters
            .iter()
            .find(|c| c.id == job.data.cluster_id)
            .map(|c| c.description.clone());
        let next_run = match job.status {
            JobStatus::Running => Schedule::parse(&job.schedule)
                .ok()
                .map(|s| s.next_after(self.inner().clock.now())),
            JobStatus::Paused | JobStatus::Deleted => None,
        };
        JobOverview {
            job,
            cluster_description,
            next_run,
            last_run,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::JobEvent;
    use crate::testkit::fixture;
    use crate::testkit::SnapshotBehaviour;
    use cairn_model::{CreateJobRequest, HistoryStatus, ScheduledBackupData};

    #[tokio::test]
    async fn a_clusters_overview_names_its_lock_holder_and_the_next_label_index() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        let before = f
            .services
            .cluster_overview(&f.scope, &cluster.id)
            .await
            .unwrap();
        assert_eq!((before.lock, before.next_backup_index), (None, 1));

        f.engine.snapshots(SnapshotBehaviour::Hold);
        let backup = f
            .services
            .create_backup(&f.scope, &cluster.id, "first")
            .await
            .unwrap();
        let during = f
            .services
            .cluster_overview(&f.scope, &cluster.id)
            .await
            .unwrap();

        assert_eq!(
            during.lock.as_deref(),
            Some(
                format!(
                    "cluster {} is locked by backup {} (manual)",
                    cluster.id, backup.id
                )
                .as_str()
            )
        );
        assert_eq!(during.next_backup_index, 2);
        assert_eq!(during.backups.len(), 1);
        f.engine.release_snapshots();
        f.services.settle().await;
        let after = f
            .services
            .cluster_overview(&f.scope, &cluster.id)
            .await
            .unwrap();
        assert_eq!(after.lock, None);
    }

    #[tokio::test]
    async fn a_jobs_overview_has_its_next_run_while_running_and_its_last_run() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        let request = CreateJobRequest {
            description: "six-hourly".into(),
            schedule: "30 */6 * * *".into(),
            data: ScheduledBackupData {
                cluster_id: cluster.id.clone(),
                description: "{cluster} #{index}".into(),
                max_backup_count: 3,
            },
        };
        let job = f.services.create_job(&f.scope, &request).await.unwrap();
        let now = crate::Clock::now(f.clock.as_ref());

        let listed = f.services.job_overviews(&f.scope).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].cluster_description.as_deref(), Some("orders"));
        assert_eq!(
            listed[0].next_run,
            Some(Schedule::parse("30 */6 * * *").unwrap().next_after(now))
        );
        assert_eq!(listed[0].last_run, None);

        f.services.run_job_now(&f.scope, &job.id).await.unwrap();
        f.services.settle().await;
        f.services
            .change_job(&f.scope, &job.id, JobEvent::Pause)
            .await
            .unwrap();
        let detail = f.services.job_detail(&f.scope, &job.id).await.unwrap();
        assert_eq!(detail.overview.next_run, None, "paused");
        assert_eq!(
            detail.overview.last_run.map(|r| r.status),
            Some(HistoryStatus::Succeeded)
        );
        assert_eq!(detail.backups.len(), 1);
        assert_eq!(detail.history.len(), 1);
    }
}
