//! Clusters of node processes on this machine: laid out, started (or adopted when they outlived
//! a Cairn restart), probed for health, and stopped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::log::VOLUME_LOCK;
use crate::node::PID_FILE;

/// How to start a node: `cairn node` (this binary) in production, `cairn-node` in tests.
#[derive(Debug, Clone)]
pub struct Launcher {
    program: PathBuf,
    prefix: Vec<String>,
}

impl Launcher {
    pub fn new(program: impl Into<PathBuf>, prefix: &[&str]) -> Launcher {
        Launcher {
            program: program.into(),
            prefix: prefix.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The running `cairn` binary's `node` command.
    pub fn this_binary() -> std::io::Result<Launcher> {
        Ok(Launcher::new(std::env::current_exe()?, &["node"]))
    }
}

/// Where a cluster's nodes live and listen. Node 0 leads a three-node cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterLayout {
    pub nodes: Vec<NodeLayout>,
    pub quota_bytes: u64,
    pub chunk_size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeLayout {
    pub volume: PathBuf,
    pub port: u16,
}

impl NodeLayout {
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl ClusterLayout {
    /// `nodes` volumes under `root` and a free loopback port for each, kept for the cluster's
    /// life so that restarted nodes come back where their peers and clients expect them.
    pub fn new(
        root: &Path,
        nodes: u8,
        quota_bytes: u64,
        chunk_size: u64,
    ) -> std::io::Result<ClusterLayout> {
        let listeners: Vec<std::net::TcpListener> = (0..nodes)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
            .collect::<std::io::Result<_>>()?;
        let nodes = listeners
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Ok(NodeLayout {
                    volume: root.join(format!("node-{i}")),
                    port: l.local_addr()?.port(),
                })
            })
            .collect::<std::io::Result<_>>()?;
        Ok(ClusterLayout {
            nodes,
            quota_bytes,
            chunk_size,
        })
    }

    pub fn leader(&self) -> &NodeLayout {
        &self.nodes[0]
    }
}

/// A cluster's health from real probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Ok,
    /// Serving, but not every node is in step (the reason names which and why).
    Degraded(String),
    /// Not serving writes.
    Down(String),
}

/// Replication further behind than this makes a cluster degraded.
const BEHIND_LIMIT: u64 = 1 << 20;

/// Starts, probes and stops node processes.
#[derive(Debug, Clone)]
pub struct Clusters {
    launcher: Launcher,
    client: reqwest::Client,
}

impl Clusters {
    pub fn new(launcher: Launcher) -> Clusters {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(1))
            .build()
            .expect("a plain HTTP client builds");
        Clusters { launcher, client }
    }

    /// The node's `/health`, if it answers and is this node: a port freed by a dead node and
    /// taken by another process (another cluster's node, say) does not count as this node.
    async fn probe(&self, node: &NodeLayout) -> Option<serde_json::Value> {
        let response = self
            .client
            .get(format!("http://{}/health", node.address()))
            .send()
            .await
            .ok()?;
        let health: serde_json::Value = response.json().await.ok()?;
        let ours = node.volume.display().to_string();
        match health["volume"].as_str() {
            Some(volume) if volume != ours => {
                tracing::warn!(port = node.port, %volume, expected = %ours, "another node answers on this node's port");
                None
            }
            _ => Some(health),
        }
    }

    /// Starts every node whose process is gone (followers before the leader) and waits until
    /// those answer; running nodes are adopted, also when they do not answer (a paused or busy
    /// node must not get a twin). Safe to call at any time: after provisioning, after a Cairn
    /// restart, after a node died. Returns how many nodes it started.
    pub async fn ensure_running(&self, layout: &ClusterLayout) -> Result<usize, String> {
        let mut order: Vec<usize> = (1..layout.nodes.len()).collect();
        order.push(0);
        let mut started = Vec::new();
        for index in order {
            let node = &layout.nodes[index];
            if !volume_is_free(&node.volume) {
                continue; // its node runs: the volume lock is held while it does
            }
            std::fs::create_dir_all(&node.volume)
                .map_err(|e| format!("{}: {e}", node.volume.display()))?;
            let mut command = tokio::process::Command::new(&self.launcher.program);
            command
                .args(&self.launcher.prefix)
                .args([
                    "--data",
                    &node.volume.display().to_string(),
                    "--port",
                    &node.port.to_string(),
                ])
                .args(["--quota-bytes", &layout.quota_bytes.to_string()])
                .args(["--chunk-size", &layout.chunk_size.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(node_log(&node.volume)?);
            if layout.nodes.len() > 1 {
                if index == 0 {
                    let followers: Vec<String> =
                        layout.nodes[1..].iter().map(NodeLayout::address).collect();
                    command.args(["--followers", &followers.join(",")]);
                } else {
                    command.arg("--follower");
                }
            }
            // Nodes outlive this process on purpose: a Cairn restart must not stop the
            // clusters; the next Cairn adopts them. Tokio reaps them if they exit first.
            command
                .spawn()
                .map_err(|e| format!("cannot start node {index}: {e}"))?;
            started.push(index);
        }
        if started.is_empty() {
            return Ok(0);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        for &index in &started {
            while self.probe(&layout.nodes[index]).await.is_none() {
                if Instant::now() > deadline {
                    return Err(format!("node {index} did not become healthy within 20 s"));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        // A leader learns its followers within a replication round: give it that long to
        // report the cluster whole (it may rightly stay degraded; that is for `health`).
        let settle = Instant::now() + Duration::from_secs(3);
        while self.health(layout).await != Health::Ok && Instant::now() < settle {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(started.len())
    }

    /// Probes every node: `Down` when the leader does not answer, `Degraded` when a follower
    /// does not or is behind on replication. The leader's view comes first: a follower that
    /// misses appends is "behind on replication" whatever the reason (paused, dead, cut off).
    pub async fn health(&self, layout: &ClusterLayout) -> Health {
        let probes = futures::future::join_all(layout.nodes.iter().map(|n| self.probe(n))).await;
        let Some(leader) = &probes[0] else {
            return Health::Down(if layout.nodes.len() == 1 {
                "the node does not answer".into()
            } else {
                "the leader (node 0) does not answer".into()
            });
        };
        let followers = leader["followers"].as_array().cloned().unwrap_or_default();
        let mut reasons = Vec::new();
        for (index, probe) in probes.iter().enumerate().skip(1) {
            let address = layout.nodes[index].address();
            let view = followers
                .iter()
                .find(|f| f["address"].as_str() == Some(address.as_str()));
            let behind = view.and_then(|f| f["behindBytes"].as_u64()).unwrap_or(0);
            let reaches_leader = view.is_none_or(|f| f["reachable"] != false);
            let answers = probe.is_some();
            if behind > BEHIND_LIMIT || (behind > 0 && !(reaches_leader && answers)) {
                reasons.push(format!(
                    "node {index} is behind on replication by {behind} bytes{}",
                    if answers { "" } else { " and does not answer" }
                ));
            } else if !answers {
                reasons.push(format!("node {index} does not answer"));
            } else if !reaches_leader {
                reasons.push(format!("node {index} does not answer the leader"));
            }
        }
        if reasons.is_empty() {
            Health::Ok
        } else {
            Health::Degraded(reasons.join("; "))
        }
    }

    /// Each node as a probe sees it now: role, and its committed position or what is wrong.
    pub async fn node_states(&self, layout: &ClusterLayout) -> Vec<cairn_model::NodeState> {
        let probes = futures::future::join_all(layout.nodes.iter().map(|n| self.probe(n))).await;
        let leader_view = probes[0]
            .as_ref()
            .and_then(|p| p["followers"].as_array().cloned())
            .unwrap_or_default();
        layout
            .nodes
            .iter()
            .zip(&probes)
            .enumerate()
            .map(|(index, (node, probe))| {
                let address = node.address();
                let role = match (layout.nodes.len(), index) {
                    (1, _) => "single",
                    (_, 0) => "leader",
                    _ => "follower",
                };
                let view = leader_view
                    .iter()
                    .find(|f| f["address"].as_str() == Some(address.as_str()));
                let behind = view.and_then(|f| f["behindBytes"].as_u64()).unwrap_or(0);
                let (healthy, detail) = match probe {
                    None => (false, "does not answer".to_owned()),
                    Some(_) if behind > BEHIND_LIMIT => {
                        (false, format!("behind on replication by {behind} bytes"))
                    }
                    Some(_) if view.is_some_and(|f| f["reachable"] == false) => {
                        (false, "does not answer the leader".to_owned())
                    }
                    Some(probe) => (
                        true,
                        format!(
                            "committed position {}",
                            probe["committedPosition"].as_u64().unwrap_or(0)
                        ),
                    ),
                };
                cairn_model::NodeState {
                    index: index as u8,
                    address,
                    role: role.to_owned(),
                    healthy,
                    detail,
                }
            })
            .collect()
    }

    /// Stops every node (SIGTERM by the pid each wrote in its volume) and waits until each
    /// volume is free.
    pub async fn stop(&self, layout: &ClusterLayout) -> Result<(), String> {
        for node in &layout.nodes {
            stop_node(node).await?;
        }
        Ok(())
    }
}

/// A node's stderr goes to `node.log` in its volume (appended across restarts).
fn node_log(volume: &Path) -> Result<Stdio, String> {
    let path = volume.join("node.log");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Stdio::from(file))
}

/// Stops one node, if running; returns once its volume lock is free.
pub async fn stop_node(node: &NodeLayout) -> Result<(), String> {
    let Ok(pid) = std::fs::read_to_string(node.volume.join(PID_FILE)) else {
        return Ok(()); // never started
    };
    let Ok(pid) = pid.trim().parse::<i32>() else {
        return Err(format!(
            "{}: not a pid",
            node.volume.join(PID_FILE).display()
        ));
    };
    if volume_is_free(&node.volume) {
        return Ok(()); // the pid is stale; it may belong to someone else now
    }
    // Asked first; a node that does not stop within 10 s (hung, paused) is killed, so that a
    // deletion or a rolling restart always gets past it.
    for (signal, grace) in [(libc::SIGTERM, 10), (libc::SIGKILL, 5)] {
        // SAFETY: a plain signal to a process id.
        unsafe {
            libc::kill(pid, signal);
            if signal == libc::SIGKILL {
                // A stopped (SIGSTOP) process takes SIGKILL only once continued.
                libc::kill(pid, libc::SIGCONT);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(grace);
        while Instant::now() < deadline {
            if volume_is_free(&node.volume) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Err(format!("node {pid} did not stop, even when killed"))
}

/// Whether no process holds the volume's lock (which a node holds while it runs). A pid file
/// alone proves nothing: its process may be gone and the pid given to another.
pub fn volume_is_free(volume: &Path) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(file) = std::fs::OpenOptions::new()
        .write(true)
        .open(volume.join(VOLUME_LOCK))
    else {
        return true;
    };
    // SAFETY: flock on a descriptor owned here; released when `file` is dropped.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}
