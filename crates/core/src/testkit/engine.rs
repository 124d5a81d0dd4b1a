//! A fake engine, and the gates tests hold its work at.

use crate::ports::{ClusterChange, Engine, EngineError, ProgressSink, SnapshotFacts};
use async_trait::async_trait;
use cairn_model::{
    Backup, BackupId, Cluster, ClusterAddresses, ClusterHealth, ClusterId, Progress,
};
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

/// Where a fake's work waits while a test holds it: open until [`Gate::hold`], and open
/// again on [`Gate::release`]. [`Gate::arrived`] counts who reached it.
pub struct Gate {
    open: watch::Sender<bool>,
    arrived: std::sync::atomic::AtomicUsize,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            open: watch::channel(true).0,
            arrived: Default::default(),
        }
    }
}

impl Gate {
    pub fn hold(&self) {
        self.open.send_replace(false);
    }

    pub fn release(&self) {
        self.open.send_replace(true);
    }

    /// How many have reached the gate so far.
    pub fn arrived(&self) -> usize {
        self.arrived.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn pass(&self) {
        self.arrived
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _ = self.open.subscribe().wait_for(|open| *open).await;
    }
}

/// What the fake engine does when asked for a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotBehaviour {
    Succeed,
    Fail(EngineError),
    /// Wait until [`FakeEngine::release_snapshots`] is called, then succeed.
    Hold,
}

/// An engine that runs nothing: it answers as told and records what it was asked.
pub struct FakeEngine {
    snapshots: Mutex<SnapshotBehaviour>,
    provisioning: Mutex<Option<EngineError>>,
    deletions: Mutex<Option<EngineError>>,
    gate: watch::Sender<bool>,
    /// Provisioning, changes and health probes wait at these while a test holds them.
    pub provisioning_gate: Gate,
    pub changes_gate: Gate,
    pub probes_gate: Gate,
    pub verifications_gate: Gate,
    verifications: Mutex<Option<EngineError>>,
    /// What `contents` says of any cluster (what the fake's snapshots record, unless set).
    contents: Mutex<Option<cairn_model::ClusterContents>>,
    deleted_snapshots: Mutex<Vec<BackupId>>,
    provisioned: Mutex<Vec<(ClusterId, Option<BackupId>)>>,
    changes: Mutex<Vec<(ClusterId, ClusterChange)>>,
    health: Mutex<HashMap<ClusterId, std::result::Result<ClusterHealth, EngineError>>>,
    resumed: Mutex<Vec<ClusterId>>,
    node_probes: std::sync::atomic::AtomicUsize,
}

impl Default for FakeEngine {
    fn default() -> Self {
        Self {
            snapshots: Mutex::new(SnapshotBehaviour::Succeed),
            provisioning: Mutex::new(None),
            deletions: Mutex::new(None),
            gate: watch::channel(false).0,
            provisioning_gate: Gate::default(),
            changes_gate: Gate::default(),
            probes_gate: Gate::default(),
            verifications_gate: Gate::default(),
            verifications: Mutex::new(None),
            contents: Mutex::new(Some(cairn_model::ClusterContents {
                event_count: 42,
                last_position: 4200,
            })),
            deleted_snapshots: Mutex::new(Vec::new()),
            provisioned: Mutex::new(Vec::new()),
            changes: Mutex::new(Vec::new()),
            health: Mutex::new(HashMap::new()),
            resumed: Mutex::new(Vec::new()),
            node_probes: Default::default(),
        }
    }
}

impl FakeEngine {
    /// What probes of `cluster` will say from now on (`Ok` until set).
    pub fn set_health(
        &self,
        cluster: &ClusterId,
        health: std::result::Result<ClusterHealth, EngineError>,
    ) {
        self.health.lock().unwrap().insert(cluster.clone(), health);
    }

    /// How many times `nodes` probed a cluster's nodes.
    pub fn node_probes(&self) -> usize {
        self.node_probes.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The clusters `resume` was called for, in order.
    pub fn resumed(&self) -> Vec<ClusterId> {
        self.resumed.lock().unwrap().clone()
    }

    /// Sets what the next snapshots do; `Hold` closes the gate again.
    pub fn snapshots(&self, behaviour: SnapshotBehaviour) {
        if behaviour == SnapshotBehaviour::Hold {
            self.gate.send_replace(false);
        }
        *self.snapshots.lock().unwrap() = behaviour;
    }

    pub fn release_snapshots(&self) {
        self.gate.send_replace(true);
    }

    /// What clusters hold from now on, as `contents` reads them.
    pub fn restored_contents(&self, contents: Option<cairn_model::ClusterContents>) {
        *self.contents.lock().unwrap() = contents;
    }

    /// Verifications fail with `error` from now on (`None`: they find nothing wrong).
    pub fn fail_verifications(&self, error: Option<EngineError>) {
        *self.verifications.lock().unwrap() = error;
    }

    /// Snapshot deletions fail with `error` from now on (`None`: they succeed again).
    pub fn fail_deletions(&self, error: Option<EngineError>) {
        *self.deletions.lock().unwrap() = error;
    }

    /// Provisioning (and restores) wait from now on until [`FakeEngine::release_provisioning`].
    pub fn hold_provisioning(&self) {
        self.provisioning_gate.hold();
    }

    pub fn release_provisioning(&self) {
        self.provisioning_gate.release();
    }

    pub fn fail_provisioning(&self, error: EngineError) {
        *self.provisioning.lock().unwrap() = Some(error);
    }

    pub fn deleted_snapshots(&self) -> Vec<BackupId> {
        self.deleted_snapshots.lock().unwrap().clone()
    }

    /// Changes applied to clusters, in order.
    pub fn changes(&self) -> Vec<(ClusterId, ClusterChange)> {
        self.changes.lock().unwrap().clone()
    }

    /// Clusters provisioned, with the backup each was restored from.
    pub fn provisioned(&self) -> Vec<(ClusterId, Option<BackupId>)> {
        self.provisioned.lock().unwrap().clone()
    }
}

#[async_trait]
impl Engine for FakeEngine {
    async fn health(&self, cluster: &Cluster) -> std::result::Result<ClusterHealth, EngineError> {
        self.probes_gate.pass().await;
        self.health
            .lock()
            .unwrap()
            .get(&cluster.id)
            .cloned()
            .unwrap_or(Ok(ClusterHealth::Ok))
    }

    /// One node, healthy while the cluster's health is `Ok`; its detail counts the probes,
    /// so a test can tell one probe's answer from the next.
    async fn nodes(
        &self,
        cluster: &Cluster,
    ) -> std::result::Result<Vec<cairn_model::NodeState>, EngineError> {
        let probe = 1 + self
            .node_probes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let healthy = self.health.lock().unwrap().get(&cluster.id).cloned();
        Ok(vec![cairn_model::NodeState {
            index: 0,
            address: "127.0.0.1:2113".into(),
            role: "single".into(),
            healthy: matches!(healthy, None | Some(Ok(ClusterHealth::Ok))),
            detail: format!("probe {probe}"),
        }])
    }

    async fn resume(&self, cluster: &Cluster) -> std::result::Result<(), EngineError> {
        self.resumed.lock().unwrap().push(cluster.id.clone());
        Ok(())
    }

    async fn provision(
        &self,
        cluster: &Cluster,
        source: Option<&Backup>,
    ) -> std::result::Result<ClusterAddresses, EngineError> {
        self.provisioned
            .lock()
            .unwrap()
            .push((cluster.id.clone(), source.map(|b| b.id.clone())));
        self.provisioning_gate.pass().await;
        if let Some(error) = self.provisioning.lock().unwrap().clone() {
            return Err(error);
        }
        Ok(ClusterAddresses {
            tcp: vec![],
            grpc: format!("esdb://{}.local:2113", cluster.id),
            ui: format!("http://{}.local:2113", cluster.id),
        })
    }

    async fn snapshot(
        &self,
        cluster: &Cluster,
        _backup: &Backup,
        progress: ProgressSink,
    ) -> std::result::Result<SnapshotFacts, EngineError> {
        let behaviour = self.snapshots.lock().unwrap().clone();
        progress(Progress {
            bytes_done: 0,
            bytes_total: 100,
        });
        match behaviour {
            SnapshotBehaviour::Fail(error) => return Err(error),
            SnapshotBehaviour::Hold => {
                let mut gate = self.gate.subscribe();
                let _ = gate.wait_for(|open| *open).await;
            }
            SnapshotBehaviour::Succeed => {}
        }
        progress(Progress {
            bytes_done: 100,
            bytes_total: 100,
        });
        Ok(SnapshotFacts {
            bytes_stored: 100,
            bytes_new: 100,
            file_count: 3,
            checksum: "blake3:fake".into(),
            available_node_count: cluster.topology.node_count(),
            contents: Some(cairn_model::ClusterContents {
                event_count: 42,
                last_position: 4200,
            }),
        })
    }

    async fn contents(
        &self,
        _cluster: &Cluster,
    ) -> std::result::Result<Option<cairn_model::ClusterContents>, EngineError> {
        Ok(*self.contents.lock().unwrap())
    }

    async fn verify_snapshot(
        &self,
        _backup: &Backup,
    ) -> std::result::Result<crate::ports::VerifiedFacts, EngineError> {
        self.verifications_gate.pass().await;
        match self.verifications.lock().unwrap().clone() {
            Some(error) => Err(error),
            None => Ok(crate::ports::VerifiedFacts {
                files: 3,
                chunks: 7,
                bytes: 100,
            }),
        }
    }

    async fn delete_snapshot(&self, backup: &Backup) -> std::result::Result<(), EngineError> {
        if let Some(error) = self.deletions.lock().unwrap().clone() {
            return Err(error);
        }
        self.deleted_snapshots
            .lock()
            .unwrap()
            .push(backup.id.clone());
        Ok(())
    }

    /// Records the change; fails it when snapshots are set to fail (the cluster is "unhealthy").
    async fn apply(
        &self,
        cluster: &Cluster,
        change: &ClusterChange,
    ) -> std::result::Result<(), EngineError> {
        self.changes
            .lock()
            .unwrap()
            .push((cluster.id.clone(), change.clone()));
        self.changes_gate.pass().await;
        match self.snapshots.lock().unwrap().clone() {
            SnapshotBehaviour::Fail(error) => Err(error),
            _ => Ok(()),
        }
    }
}
