//! The cluster lock: one operation per cluster at a time (domain.md §5). A lock is a row keyed
//! by the cluster id, so whoever inserts it first holds it — in SQLite and PostgreSQL alike, across
//! any number of Cairn instances. Acquisition never queues: a held lock is a conflict at once.

use cairn_model::{ClusterId, JobId};
use chrono::{DateTime, Utc};
use std::fmt;

/// What holds a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    /// A new cluster (or a restore) being provisioned.
    Provisioning,
    Backup,
    DiskExpansion,
    Resize,
    Upgrade,
    Deletion,
    /// A rename or a change of deletion protection (held for a moment).
    Update,
    /// Recovery settling work a dead instance left (held for a moment).
    Recovery,
}

impl LockKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LockKind::Provisioning => "provisioning",
            LockKind::Backup => "backup",
            LockKind::DiskExpansion => "disk expansion",
            LockKind::Resize => "resize",
            LockKind::Upgrade => "upgrade",
            LockKind::Deletion => "deletion",
            LockKind::Update => "update",
            LockKind::Recovery => "recovery",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            LockKind::Provisioning,
            LockKind::Backup,
            LockKind::DiskExpansion,
            LockKind::Resize,
            LockKind::Upgrade,
            LockKind::Deletion,
            LockKind::Update,
            LockKind::Recovery,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterLock {
    pub cluster_id: ClusterId,
    pub kind: LockKind,
    /// The id of the operation's resource (the backup's id for a backup).
    pub holder_id: String,
    /// The job whose run holds the lock; `None` for a manual operation.
    pub job_id: Option<JobId>,
    pub acquired_at: DateTime<Utc>,
    /// The Cairn instance running the operation: when its heartbeat stops, the operation is
    /// dead and another instance settles it.
    pub owner: String,
}

impl fmt::Display for ClusterLock {
    /// "cluster c1… is locked by backup c2… (manual)" — the sentence users see.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == LockKind::Provisioning {
            return write!(
                f,
                "cluster {} is locked: it is being provisioned",
                self.cluster_id
            );
        }
        write!(
            f,
            "cluster {} is locked by {} {} ",
            self.cluster_id,
            self.kind.as_str(),
            self.holder_id
        )?;
        match &self.job_id {
            None => write!(f, "(manual)"),
            Some(job) => write!(f, "(job {job})"),
        }
    }
}

/// The answer to an attempt to take a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockOutcome {
    Acquired,
    HeldBy(ClusterLock),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_says_who_holds_it_and_whether_a_job_does() {
        let mut lock = ClusterLock {
            cluster_id: ClusterId::parse("c1eut65o0aeu6ojco7a0").unwrap(),
            kind: LockKind::Backup,
            holder_id: "c1ev3l5o0aeu6ojco7b0".into(),
            job_id: None,
            acquired_at: "2026-11-24T12:00:00Z".parse().unwrap(),
            owner: "instance".into(),
        };
        assert_eq!(
            lock.to_string(),
            "cluster c1eut65o0aeu6ojco7a0 is locked by backup c1ev3l5o0aeu6ojco7b0 (manual)"
        );
        lock.job_id = Some(JobId::parse("c10dvoarh41lb9otkdrg").unwrap());
        assert!(lock.to_string().ends_with("(job c10dvoarh41lb9otkdrg)"));
        assert_eq!(
            LockKind::parse("disk expansion"),
            Some(LockKind::DiskExpansion)
        );
    }
}
