//! Behaviour of backups, locks, restores and recovery, over the in-memory store and the fake
//! engine. Each test reads as the rule it checks.

use crate::testkit::{
    FakeEngine, InMemoryStore, ManualClock, RecordingNotifier, SnapshotBehaviour,
};
use crate::{
    BackupStore, ClusterLock, ClusterStore, EngineError, Error, ErrorKind, LockKind, Services,
    SiteConfig,
};
use cairn_model::{BackupStatus, Cluster, ClusterHealth, ClusterStatus, InstanceType, Topology};
use std::sync::Arc;
use std::time::Duration;

pub(crate) use crate::testkit::{fixture, fixture_with, Fixture};

mod backups;
mod cancelling;
mod cluster_changes;
mod cluster_recovery;
mod deleting_backups;
mod jobs;
mod scheduling;
