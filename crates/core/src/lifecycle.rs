//! Every persisted state machine as data: a status enum (from the model), the events that move
//! it, and one pure `transition` function. Illegal moves are errors that say what was refused,
//! never panics; the tables in the tests are the specification.

use cairn_model::{BackupStatus, ClusterStatus, HistoryStatus, JobStatus};
use std::fmt;

/// A move a lifecycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IllegalTransition {
    pub machine: &'static str,
    pub from: String,
    pub event: String,
}

impl fmt::Display for IllegalTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a {} that is {} cannot {}",
            self.machine, self.from, self.event
        )
    }
}

impl std::error::Error for IllegalTransition {}

/// An enum of the events that move one machine, each with the words for it in "… cannot
/// <words>" (its `Display`).
macro_rules! event_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$doc:meta])* $event:ident => $words:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$doc])* $event,)+
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self {
                    $($name::$event => $words,)+
                })
            }
        }
    };
}

fn illegal<S: fmt::Debug, E: fmt::Display>(
    machine: &'static str,
    from: S,
    event: E,
) -> IllegalTransition {
    IllegalTransition {
        machine,
        from: format!("{from:?}").to_lowercase(),
        event: event.to_string(),
    }
}

// ---- backups ----

event_enum!(BackupEvent {
    SnapshotSucceeded => "finish its snapshot",
    SnapshotFailed => "fail its snapshot",
    /// The snapshot did not finish before its deadline.
    DeadlinePassed => "pass its deadline",
    /// Cairn stopped while the operation ran; found on start-up.
    Interrupted => "be settled after a restart",
    /// Someone stopped the snapshot while it ran.
    Cancelled => "be cancelled",
    DeleteRequested => "be deleted",
    DeleteFinished => "finish deleting",
});

pub fn backup_transition(
    from: BackupStatus,
    event: BackupEvent,
) -> Result<BackupStatus, IllegalTransition> {
    use BackupEvent as E;
    use BackupStatus as S;
    match (from, event) {
        (S::Creating, E::SnapshotSucceeded) => Ok(S::Available),
        (S::Creating, E::SnapshotFailed | E::DeadlinePassed | E::Interrupted) => Ok(S::Defunct),
        (S::Creating, E::Cancelled) => Ok(S::Cancelled),
        (S::Available | S::Defunct | S::Cancelled, E::DeleteRequested) => Ok(S::Deleting),
        (S::Deleting, E::DeleteFinished | E::Interrupted) => Ok(S::Deleted),
        _ => Err(illegal("backup", from, event)),
    }
}

// ---- clusters ----

event_enum!(ClusterEvent {
    Provisioned => "finish provisioning",
    ProvisioningFailed => "fail provisioning",
    ExpandDisk => "expand its disk",
    Resize => "be resized",
    Upgrade => "be upgraded",
    /// A disk expansion, resize or upgrade finished.
    ChangeFinished => "finish a change",
    DeleteRequested => "be deleted",
    DeleteFinished => "finish deleting",
    Interrupted => "be settled after a restart",
});

/// Kurrent Cloud's `restarting`, `stopping` and `starting` are wire values Cairn never enters
/// yet, so they have no moves; everything Cairn does enter has a way out.
pub fn cluster_transition(
    from: ClusterStatus,
    event: ClusterEvent,
) -> Result<ClusterStatus, IllegalTransition> {
    use ClusterEvent as E;
    use ClusterStatus as S;
    match (from, event) {
        (S::Provisioning, E::Provisioned) => Ok(S::Available),
        (S::Provisioning, E::ProvisioningFailed | E::Interrupted) => Ok(S::Defunct),
        (S::Available, E::ExpandDisk) => Ok(S::ExpandingDisks),
        (S::Available, E::Resize) => Ok(S::Resizing),
        (S::Available, E::Upgrade) => Ok(S::Upgrading),
        (S::ExpandingDisks | S::Resizing | S::Upgrading, E::ChangeFinished | E::Interrupted) => {
            Ok(S::Available)
        }
        (S::Available | S::Defunct, E::DeleteRequested) => Ok(S::Deleting),
        (S::Deleting, E::DeleteFinished | E::Interrupted) => Ok(S::Deleted),
        _ => Err(illegal("cluster", from, event)),
    }
}

// ---- jobs ----

event_enum!(JobEvent {
    Pause => "be paused",
    Resume => "be resumed",
    Delete => "be deleted",
});

pub fn job_transition(from: JobStatus, event: JobEvent) -> Result<JobStatus, IllegalTransition> {
    use JobEvent as E;
    use JobStatus as S;
    match (from, event) {
        (S::Running, E::Pause) => Ok(S::Paused),
        (S::Paused, E::Resume) => Ok(S::Running),
        (S::Running | S::Paused, E::Delete) => Ok(S::Deleted),
        _ => Err(illegal("job", from, event)),
    }
}

// ---- job runs ----

event_enum!(RunEvent {
    Succeeded => "succeed",
    Failed => "fail",
});

pub fn run_transition(
    from: HistoryStatus,
    event: RunEvent,
) -> Result<HistoryStatus, IllegalTransition> {
    match (from, event) {
        (HistoryStatus::Started, RunEvent::Succeeded) => Ok(HistoryStatus::Succeeded),
        (HistoryStatus::Started, RunEvent::Failed) => Ok(HistoryStatus::Failed),
        _ => Err(illegal("job run", from, event)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks every (state, event) pair: the listed ones lead where the table says, every
    /// other pair is refused.
    fn check_table<S: Copy + PartialEq + fmt::Debug, E: Copy + PartialEq + fmt::Debug>(
        states: &[S],
        events: &[E],
        allowed: &[(S, E, S)],
        transition: fn(S, E) -> Result<S, IllegalTransition>,
    ) {
        for &state in states {
            for &event in events {
                let expected = allowed
                    .iter()
                    .find(|(s, e, _)| *s == state && *e == event)
                    .map(|(_, _, to)| *to);
                match (transition(state, event), expected) {
                    (Ok(to), Some(want)) => assert_eq!(to, want, "{state:?} + {event:?}"),
                    (Err(_), None) => {}
                    (got, want) => {
                        panic!("{state:?} + {event:?}: got {got:?}, table says {want:?}")
                    }
                }
            }
        }
    }

    #[test]
    fn backups_move_only_as_the_table_says() {
        use BackupEvent as E;
        use BackupStatus as S;
        let states = [
            S::Creating,
            S::Available,
            S::Defunct,
            S::Cancelled,
            S::Deleting,
            S::Deleted,
        ];
        let events = [
            E::SnapshotSucceeded,
            E::SnapshotFailed,
            E::DeadlinePassed,
            E::Interrupted,
            E::Cancelled,
            E::DeleteRequested,
            E::DeleteFinished,
        ];
        let allowed = [
            (S::Creating, E::SnapshotSucceeded, S::Available),
            (S::Creating, E::SnapshotFailed, S::Defunct),
            (S::Creating, E::DeadlinePassed, S::Defunct),
            (S::Creating, E::Interrupted, S::Defunct),
            (S::Creating, E::Cancelled, S::Cancelled),
            (S::Available, E::DeleteRequested, S::Deleting),
            (S::Defunct, E::DeleteRequested, S::Deleting),
            (S::Cancelled, E::DeleteRequested, S::Deleting),
            (S::Deleting, E::DeleteFinished, S::Deleted),
            (S::Deleting, E::Interrupted, S::Deleted),
        ];
        check_table(&states, &events, &allowed, backup_transition);
    }

    #[test]
    fn every_state_that_is_not_final_has_a_way_out_after_a_restart() {
        for state in [BackupStatus::Creating, BackupStatus::Deleting] {
            assert!(
                backup_transition(state, BackupEvent::Interrupted).is_ok(),
                "{state:?}"
            );
        }
        for state in [
            ClusterStatus::Provisioning,
            ClusterStatus::ExpandingDisks,
            ClusterStatus::Resizing,
            ClusterStatus::Upgrading,
            ClusterStatus::Deleting,
        ] {
            assert!(
                cluster_transition(state, ClusterEvent::Interrupted).is_ok(),
                "{state:?}"
            );
        }
    }

    #[test]
    fn clusters_move_only_as_the_table_says() {
        use ClusterEvent as E;
        use ClusterStatus as S;
        let states = [
            S::Provisioning,
            S::Available,
            S::Defunct,
            S::ExpandingDisks,
            S::Resizing,
            S::Upgrading,
            S::Deleting,
            S::Deleted,
        ];
        let events = [
            E::Provisioned,
            E::ProvisioningFailed,
            E::ExpandDisk,
            E::Resize,
            E::Upgrade,
            E::ChangeFinished,
            E::DeleteRequested,
            E::DeleteFinished,
            E::Interrupted,
        ];
        let allowed = [
            (S::Provisioning, E::Provisioned, S::Available),
            (S::Provisioning, E::ProvisioningFailed, S::Defunct),
            (S::Provisioning, E::Interrupted, S::Defunct),
            (S::Available, E::ExpandDisk, S::ExpandingDisks),
            (S::Available, E::Resize, S::Resizing),
            (S::Available, E::Upgrade, S::Upgrading),
            (S::ExpandingDisks, E::ChangeFinished, S::Available),
            (S::ExpandingDisks, E::Interrupted, S::Available),
            (S::Resizing, E::ChangeFinished, S::Available),
            (S::Resizing, E::Interrupted, S::Available),
            (S::Upgrading, E::ChangeFinished, S::Available),
            (S::Upgrading, E::Interrupted, S::Available),
            (S::Available, E::DeleteRequested, S::Deleting),
            (S::Defunct, E::DeleteRequested, S::Deleting),
            (S::Deleting, E::DeleteFinished, S::Deleted),
            (S::Deleting, E::Interrupted, S::Deleted),
        ];
        check_table(&states, &events, &allowed, cluster_transition);
    }

    #[test]
    fn jobs_pause_resume_and_delete_as_the_table_says() {
        use JobEvent as E;
        use JobStatus as S;
        let allowed = [
            (S::Running, E::Pause, S::Paused),
            (S::Paused, E::Resume, S::Running),
            (S::Running, E::Delete, S::Deleted),
            (S::Paused, E::Delete, S::Deleted),
        ];
        check_table(
            &[S::Running, S::Paused, S::Deleted],
            &[E::Pause, E::Resume, E::Delete],
            &allowed,
            job_transition,
        );
    }

    #[test]
    fn a_run_ends_once_and_for_all() {
        use HistoryStatus as S;
        use RunEvent as E;
        let allowed = [
            (S::Started, E::Succeeded, S::Succeeded),
            (S::Started, E::Failed, S::Failed),
        ];
        check_table(
            &[S::Started, S::Succeeded, S::Failed],
            &[E::Succeeded, E::Failed],
            &allowed,
            run_transition,
        );
    }

    #[test]
    fn an_illegal_move_says_what_was_refused() {
        let error =
            backup_transition(BackupStatus::Creating, BackupEvent::DeleteRequested).unwrap_err();
        assert_eq!(
            error.to_string(),
            "a backup that is creating cannot be deleted"
        );
    }
}
