//! What live pages follow: the nodes supervision last probed, and each followed project's
//! pulse (a digest of what its pages show, sent when it changes).

use cairn_model::{ClusterId, NodeState, ProjectId};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// A cluster's nodes as supervision's last probe saw them.
#[derive(Debug, Clone)]
pub(crate) struct Probed {
    pub(crate) nodes: Vec<NodeState>,
    pub(crate) at: DateTime<Utc>,
}

/// The digest of what a project's pages show; a new value means "read the page again".
pub(crate) type Pulse = tokio::sync::watch::Sender<u64>;

#[derive(Default)]
pub(crate) struct LiveState {
    pub(crate) probed: Mutex<HashMap<ClusterId, Probed>>,
    /// Only projects somebody follows: a pulse nobody receives is dropped at the next beat.
    pub(crate) pulses: Mutex<HashMap<ProjectId, Pulse>>,
    /// The digest of each followed project's last list of backups: a list that is still the
    /// same `Arc` is not hashed again (ten thousand backups cost nothing per beat).
    pub(crate) backup_digests: Mutex<HashMap<ProjectId, (crate::held::List, u64)>>,
}
