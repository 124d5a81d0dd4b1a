//! Live pages: a page follows its project's pulse, a digest of what the project's pages show
//! (clusters, health, probed nodes, locks, backups with their progress, jobs, latest runs).
//! One beat a second computes each followed project's digest once, however many tabs follow
//! it, and a tab reads its page again only when the digest changed: ten idle tabs cost ten
//! open streams, not ten renders every two seconds. The digest is read from the store, so a
//! change made by another Cairn instance shows too.

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use cairn_model::{BackupStatus, Cluster, ClusterId, NodeState, Permission, ProjectId};
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::held::Probed;
use crate::services::{Scope, Services};

/// How often followed projects' digests are computed.
pub const PULSE_EVERY: Duration = Duration::from_secs(1);

impl Services {
    /// The pulse of the scope's project: its value changes whenever what the project's pages
    /// show changes. Dropping the receiver stops following.
    pub async fn follow_project(&self, scope: &Scope) -> Result<tokio::sync::watch::Receiver<u64>> {
        scope.require(Permission::Read)?;
        let existing = self.pulses().get(&scope.project_id).cloned();
        if let Some(pulse) = existing {
            return Ok(pulse.subscribe());
        }
        let digest = self.project_digest(&scope.project_id).await?;
        let mut pulses = self.pulses();
        // Another follower may have made it meanwhile: one pulse per project.
        let pulse = pulses
            .entry(scope.project_id.clone())
            .or_insert_with(|| tokio::sync::watch::Sender::new(digest));
        Ok(pulse.subscribe())
    }

    /// Computes every followed project's digest once and sends those that changed; drops the
    /// pulses nobody follows any more. Returns how many changed.
    pub async fn beat_pulses(&self) -> Result<usize> {
        let followed: Vec<_> = {
            let mut pulses = self.pulses();
            pulses.retain(|_, pulse| pulse.receiver_count() > 0);
            pulses
                .iter()
                .map(|(project, pulse)| (project.clone(), pulse.clone()))
                .collect()
        };
        self.inner()
            .live
            .backup_digests
            .lock()
            .expect("backup digests")
            .retain(|project, _| followed.iter().any(|(p, _)| p == project));
        let mut changed = 0;
        for (project, pulse) in followed {
            let digest = self.project_digest(&project).await?;
            if pulse.send_if_modified(|last| std::mem::replace(last, digest) != digest) {
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Until `shutdown`: a beat every [`PULSE_EVERY`].
    pub async fn run_pulses(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            logged!(
                self.beat_pulses().await,
                "could not compute live pages' pulses"
            );
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(PULSE_EVERY) => {}
            }
        }
    }

    /// The nodes of a cluster as supervision last probed them, and when (none before the first
    /// probe). Pages read this; they never probe.
    pub(crate) fn probed_nodes(
        &self,
        cluster: &ClusterId,
    ) -> (Vec<NodeState>, Option<DateTime<Utc>>) {
        match self
            .inner()
            .live
            .probed
            .lock()
            .expect("probed nodes")
            .get(cluster)
        {
            Some(probed) => (probed.nodes.clone(), Some(probed.at)),
            None => (Vec::new(), None),
        }
    }

    /// Remembers what a probe saw of a cluster's nodes.
    pub(crate) fn record_probe(&self, cluster: &Cluster, nodes: Vec<NodeState>) {
        let at = self.inner().clock.now();
        self.inner()
            .live
            .probed
            .lock()
            .expect("probed nodes")
            .insert(cluster.id.clone(), Probed { nodes, at });
    }

    fn pulses(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<ProjectId, crate::held::Pulse>> {
        self.inner().live.pulses.lock().expect("pulses")
    }

    async fn project_digest(&self, project: &ProjectId) -> Result<u64> {
        let inner = self.inner();
        let store = inner.store.as_ref();
        let mut hasher = std::hash::DefaultHasher::new();
        let clusters = store.clusters(project).await?;
        hash_json(&mut hasher, &clusters);
        for cluster in &clusters {
            hash_json(&mut hasher, &self.probed_nodes(&cluster.id).0);
        }
        let mut locks: Vec<String> = store
            .locks()
            .await?
            .into_iter()
            .filter(|l| clusters.iter().any(|c| c.id == l.cluster_id))
            .map(|l| l.to_string())
            .collect();
        locks.sort();
        locks.hash(&mut hasher);
        let backups = inner
            .backup_lists
            .read(inner.clock.as_ref(), store, project)
            .await?;
        self.backups_digest(project, &backups).hash(&mut hasher);
        let progress = inner.progress.lock().expect("progress map").clone();
        for backup in backups
            .iter()
            .filter(|b| b.status == BackupStatus::Creating)
        {
            hash_json(&mut hasher, &progress.get(&backup.id));
        }
        hash_json(&mut hasher, &store.jobs(project).await?);
        let mut runs: Vec<_> = store.last_runs(project).await?.into_values().collect();
        runs.sort_by(|a, b| a.id.cmp(&b.id));
        hash_json(&mut hasher, &runs);
        Ok(hasher.finish())
    }

    /// The digest of a project's list of backups, hashed again only when the list is new.
    fn backups_digest(&self, project: &ProjectId, backups: &crate::held::List) -> u64 {
        let mut digests = self
            .inner()
            .live
            .backup_digests
            .lock()
            .expect("backup digests");
        if let Some((list, digest)) = digests.get(project) {
            if Arc::ptr_eq(list, backups) {
                return *digest;
            }
        }
        let mut hasher = std::hash::DefaultHasher::new();
        hash_json(&mut hasher, backups.as_ref());
        let digest = hasher.finish();
        digests.insert(project.clone(), (backups.clone(), digest));
        digest
    }
}

/// Every model type is serializable: its JSON is what the pages show of it.
fn hash_json(hasher: &mut impl Hasher, value: &impl serde::Serialize) {
    match serde_json::to_vec(value) {
        Ok(bytes) => bytes.hash(hasher),
        Err(_) => 0u8.hash(hasher),
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::{fixture, SnapshotBehaviour};
    use cairn_model::ClusterHealth;

    #[tokio::test]
    async fn a_cluster_page_shows_the_nodes_supervision_probed_and_never_probes_itself() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        let provisioned = f.engine.node_probes();
        assert_eq!(
            provisioned, 1,
            "provisioning probes the new cluster's nodes once"
        );

        for _ in 0..3 {
            let overview = f
                .services
                .cluster_overview(&f.scope, &cluster.id)
                .await
                .unwrap();
            assert_eq!(overview.nodes[0].detail, "probe 1");
            assert!(overview.nodes_probed_at.is_some());
        }
        assert_eq!(
            f.engine.node_probes(),
            provisioned,
            "rendering probed nothing"
        );

        f.engine
            .set_health(&cluster.id, Ok(ClusterHealth::Degraded));
        f.services.probe_clusters().await.unwrap();
        let overview = f
            .services
            .cluster_overview(&f.scope, &cluster.id)
            .await
            .unwrap();
        assert_eq!(overview.nodes[0].detail, "probe 2");
        assert!(!overview.nodes[0].healthy);
    }

    #[tokio::test]
    async fn a_followed_projects_pulse_changes_when_a_backup_changes_and_only_then() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        let mut pulse = f.services.follow_project(&f.scope).await.unwrap();
        assert_eq!(
            f.services.beat_pulses().await.unwrap(),
            0,
            "nothing changed"
        );
        assert!(!pulse.has_changed().unwrap());

        f.engine.snapshots(SnapshotBehaviour::Hold);
        f.services
            .create_backup(&f.scope, &cluster.id, "first")
            .await
            .unwrap();
        assert_eq!(
            f.services.beat_pulses().await.unwrap(),
            1,
            "a backup and a lock"
        );
        assert!(pulse.has_changed().unwrap());
        pulse.borrow_and_update();
        assert_eq!(f.services.beat_pulses().await.unwrap(), 0);

        f.engine.release_snapshots();
        f.services.settle().await;
        assert_eq!(
            f.services.beat_pulses().await.unwrap(),
            1,
            "the backup ended"
        );
        assert!(pulse.has_changed().unwrap());
    }

    #[tokio::test]
    async fn a_probe_that_sees_a_node_change_moves_the_pulse() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        let _pulse = f.services.follow_project(&f.scope).await.unwrap();
        f.engine
            .set_health(&cluster.id, Ok(ClusterHealth::Degraded));
        f.services.probe_clusters().await.unwrap();
        assert_eq!(f.services.beat_pulses().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn ten_followers_share_one_pulse_and_a_pulse_nobody_follows_is_dropped() {
        let f = fixture().await;
        let followers = ten_followers(&f).await;
        assert_eq!(f.services.inner().live.pulses.lock().unwrap().len(), 1);
        drop(followers);
        f.services.beat_pulses().await.unwrap();
        assert!(f.services.inner().live.pulses.lock().unwrap().is_empty());
    }

    async fn ten_followers(f: &crate::testkit::Fixture) -> Vec<tokio::sync::watch::Receiver<u64>> {
        let mut followers = Vec::new();
        for _ in 0..10 {
            followers.push(f.services.follow_project(&f.scope).await.unwrap());
        }
        followers
    }
}
