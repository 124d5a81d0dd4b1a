//! Verifying a backup: every chunk of its snapshot read back and every hash checked, in the
//! background. The result (when, how long, what was checked or what is damaged) is stored on
//! the backup; a damaged one raises a `backup-verification-failed` notification.

use crate::audit::{Record, Subject};
use crate::backups::backup_summary;
use crate::error::{Error, Result};
use crate::ports::Notification;
use crate::services::{Scope, Services};
use cairn_model::audit::actions;
use cairn_model::Permission;
use cairn_model::{Backup, BackupId, BackupStatus, Verification};

impl Services {
    /// Starts verifying an available backup; answers at once with the backup as it is. A
    /// verification of the same backup already running is a conflict. The audit records that
    /// it was asked for (started or refused); how it ends is the backup's, and a notification's.
    pub async fn verify_backup(&self, scope: &Scope, id: &BackupId) -> Result<Backup> {
        let record = Record::in_scope(
            scope,
            actions::BACKUP_VERIFY,
            Subject::new("backup", id, ""),
        );
        self.audited(record, self.verifying_backup(scope, id), |backup, _| {
            Subject::new("backup", id, backup_summary(backup))
        })
        .await
    }

    async fn verifying_backup(&self, scope: &Scope, id: &BackupId) -> Result<Backup> {
        scope.require(Permission::Operate)?;
        let backup = self.get_backup(scope, id).await?;
        if backup.status != BackupStatus::Available {
            return Err(Error::conflict(format!(
                "backup {id} is {}: only an available backup can be verified",
                backup.status.as_str()
            )));
        }
        let engine = self.engine()?;
        if !self
            .inner()
            .verifying
            .lock()
            .expect("verifying set")
            .insert(id.clone())
        {
            return Err(Error::conflict(format!(
                "backup {id} is being verified already"
            )));
        }
        tracing::info!(backup.id = %id, "verification started");
        let services = self.clone();
        let verifying = backup.clone();
        let mark = Verifying(self.clone(), id.clone());
        self.spawn(async move {
            let _mark = mark;
            let at = services.inner().clock.now();
            let started = std::time::Instant::now();
            let outcome = engine.verify_snapshot(&verifying).await;
            let duration_ms = started.elapsed().as_millis() as u64;
            let verification = match outcome {
                Ok(facts) => Verification {
                    at,
                    duration_ms,
                    ok: true,
                    detail: format!(
                        "{} files and {} chunks ({}) read back; every hash matched",
                        facts.files,
                        facts.chunks,
                        mebibytes(facts.bytes)
                    ),
                },
                Err(error) => Verification {
                    at,
                    duration_ms,
                    ok: false,
                    detail: error.to_string(),
                },
            };
            services.record_verification(&verifying, verification).await;
        });
        Ok(backup)
    }

    /// Whether a verification of the project's backup runs on this instance now.
    pub async fn is_verifying(&self, scope: &Scope, id: &BackupId) -> Result<bool> {
        scope.require(Permission::Read)?;
        self.get_backup(scope, id).await?;
        Ok(self
            .inner()
            .verifying
            .lock()
            .expect("verifying set")
            .contains(id))
    }

    async fn record_verification(&self, backup: &Backup, verification: Verification) {
        let id = &backup.id;
        let writing = self.writing_backups();
        let written = self.inner().store.set_verification(id, &verification).await;
        drop(writing);
        if let Err(error) = written {
            tracing::error!(backup.id = %id, %error, "could not record a verification")
        }
        self.inner()
            .verifying
            .lock()
            .expect("verifying set")
            .remove(id);
        let outcome = if verification.ok { "ok" } else { "damaged" };
        self.inner()
            .metrics
            .count(|m| *m.verifications.entry(outcome).or_default() += 1);
        if verification.ok {
            tracing::info!(backup.id = %id, duration_ms = verification.duration_ms, "backup verified");
            return;
        }
        tracing::warn!(backup.id = %id, detail = %verification.detail, "backup verification failed");
        self.raise(Notification {
            scope: self.scope_of_backup(backup).await,
            category: "backup-verification-failed",
            subject: format!("Backup {} failed its verification", backup.description),
            message: format!(
                "Backup {id} of cluster {} does not verify: {}",
                backup.source_cluster_id, verification.detail
            ),
            resource_id: id.to_string(),
        })
        .await;
    }
}

/// Bytes as people read them in a sentence: "1.0 MiB".
fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

/// Marks a backup as being verified here until dropped (however the task ends, a panic
/// included, the mark goes).
struct Verifying(Services, BackupId);

impl Drop for Verifying {
    fn drop(&mut self) {
        if let Ok(mut verifying) = self.0.inner().verifying.lock() {
            verifying.remove(&self.1);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::fixture;
    use crate::EngineError;
    use cairn_model::BackupStatus;

    #[tokio::test]
    async fn verifying_a_backup_stores_when_and_what_was_checked() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        let backup = f
            .services
            .create_backup(&f.scope, &cluster.id, "checked")
            .await
            .unwrap();
        f.services.settle().await;

        f.services
            .verify_backup(&f.scope, &backup.id)
            .await
            .unwrap();
        f.services.settle().await;

        let verified = f.services.get_backup(&f.scope, &backup.id).await.unwrap();
        let verification = verified.verification.expect("a verification is stored");
        assert!(verification.ok, "{verification:?}");
        assert_eq!(verification.at, crate::Clock::now(f.clock.as_ref()));
        assert!(verification.detail.contains("every hash matched"));
        assert!(!f.services.is_verifying(&f.scope, &backup.id).await.unwrap());
    }

    #[tokio::test]
    async fn a_damaged_backup_is_recorded_as_such_and_raises_a_notification() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        let backup = f
            .services
            .create_backup(&f.scope, &cluster.id, "rotten")
            .await
            .unwrap();
        f.services.settle().await;
        f.engine.fail_verifications(Some(EngineError::Failed(
            "file chunk-000000.000000: pack 9f8e7d6c is missing".into(),
        )));

        f.services
            .verify_backup(&f.scope, &backup.id)
            .await
            .unwrap();
        f.services.settle().await;

        let verification = f
            .services
            .get_backup(&f.scope, &backup.id)
            .await
            .unwrap()
            .verification
            .unwrap();
        assert!(!verification.ok);
        assert!(verification.detail.contains("pack 9f8e7d6c is missing"));
        let sent = f.notifier.sent();
        let told = sent.last().unwrap();
        assert_eq!(told.category, "backup-verification-failed");
        assert_eq!(told.resource_id, backup.id.to_string());
        // Still available: a verification reports, it does not decide for the operator.
        assert_eq!(
            f.services
                .get_backup(&f.scope, &backup.id)
                .await
                .unwrap()
                .status,
            BackupStatus::Available
        );
    }

    #[tokio::test]
    async fn a_new_repository_where_a_region_with_backups_points_is_refused_as_moved_or_lost() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        f.services
            .create_backup(&f.scope, &cluster.id, "kept")
            .await
            .unwrap();
        f.services.settle().await;

        let refused = f
            .services
            .refuse_new_repositories_under_backups(&["local-1".to_owned()])
            .await
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("region local-1 has 1 available backup(s)"),
            "{refused}"
        );
        assert!(refused.contains("moved or lost"), "{refused}");
        f.services
            .refuse_new_repositories_under_backups(&["local-2".to_owned()])
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn only_an_available_backup_can_be_verified_and_only_once_at_a_time() {
        let f = fixture().await;
        let cluster = f.available_cluster().await;
        f.engine.snapshots(crate::testkit::SnapshotBehaviour::Hold);
        let creating = f
            .services
            .create_backup(&f.scope, &cluster.id, "not yet")
            .await
            .unwrap();
        let error = f
            .services
            .verify_backup(&f.scope, &creating.id)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("only an available backup"),
            "{error}"
        );
        f.engine.release_snapshots();
        f.services.settle().await;

        f.engine.verifications_gate.hold();
        f.services
            .verify_backup(&f.scope, &creating.id)
            .await
            .unwrap();
        let twice = f
            .services
            .verify_backup(&f.scope, &creating.id)
            .await
            .unwrap_err();
        assert!(
            twice.to_string().contains("being verified already"),
            "{twice}"
        );
        assert!(f
            .services
            .is_verifying(&f.scope, &creating.id)
            .await
            .unwrap());
        f.engine.verifications_gate.release();
        f.services.settle().await;
        assert!(!f
            .services
            .is_verifying(&f.scope, &creating.id)
            .await
            .unwrap());
    }
}
