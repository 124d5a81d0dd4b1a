//! One-off backups: lock the cluster, record the backup as `creating`, snapshot it in the
//! background, then `available`, `defunct` or (stopped by someone) `cancelled` — the lock
//! released either way.

mod cancelling;

use crate::audit::{Record, Subject};
use crate::error::{Error, Result};
use crate::held::List;
pub use crate::held::BACKUP_LIST_KEPT;
use crate::kept::Writing;
use crate::lifecycle::{backup_transition, BackupEvent};
use crate::locks::{ClusterLock, LockKind, LockOutcome};
use crate::ports::{Engine, Notification, ProgressSink, SnapshotFacts};
use crate::scope::Actor;
use crate::services::{Scope, Services};
use cairn_model::audit::actions;
use cairn_model::label::{LabelContext, LabelTemplate};
use cairn_model::Permission;
use cairn_model::{group_backups, GroupedBackups};
use cairn_model::{
    Backup, BackupId, BackupStatus, Cluster, ClusterId, ClusterStatus, HistoryItem, ProjectId,
};
use std::sync::Arc;
use tokio::sync::oneshot;

/// A snapshot this instance is taking: cancellable while its canceller is in the map, which
/// dropping this forgets (with the progress) — at the end, on an error before the snapshot
/// starts, or should the task die.
pub(crate) struct Running {
    services: Services,
    id: BackupId,
    cancelled: oneshot::Receiver<(String, oneshot::Sender<()>)>,
}

impl Running {
    fn new(services: &Services, id: &BackupId) -> Self {
        let (canceller, cancelled) = oneshot::channel();
        services
            .inner()
            .cancels
            .lock()
            .expect("cancel map")
            .insert(id.clone(), canceller);
        Running {
            services: services.clone(),
            id: id.clone(),
            cancelled,
        }
    }

    /// The snapshot is over: no cancel is taken any more and no progress is shown.
    fn ended(&self) {
        let inner = self.services.inner();
        if let Ok(mut cancels) = inner.cancels.lock() {
            cancels.remove(&self.id);
        }
        if let Ok(mut progress) = inner.progress.lock() {
            progress.remove(&self.id);
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.ended();
    }
}

impl Services {
    /// Starts a one-off backup of a cluster, labelled from `label` (a template). Answers at
    /// once with the backup as `creating`; the snapshot runs in the background. A locked
    /// cluster is a conflict that names the holder.
    pub async fn create_backup(
        &self,
        scope: &Scope,
        cluster_id: &ClusterId,
        label: &str,
    ) -> Result<Backup> {
        let record = Record::in_scope(
            scope,
            actions::BACKUP_CREATE,
            Subject::new("cluster", cluster_id, format!("backup labelled {label}")),
        );
        let work = async {
            scope.require(Permission::Operate)?;
            let by = match scope.actor() {
                Actor::Person(principal) => principal.user().email.clone(),
                internal => internal.name(),
            };
            self.start_backup(scope, cluster_id, label, None, by).await
        };
        self.audited(record, work, |backup, _| {
            Subject::new("backup", &backup.id, backup_summary(backup))
        })
        .await
    }

    /// With `run` (a job's run), the backup belongs to that job, and the run's history item is
    /// linked to the backup before the snapshot starts, so the snapshot's end always finds it.
    /// `created_by` says who took it (a person's email, `job <description>`).
    pub(crate) async fn start_backup(
        &self,
        scope: &Scope,
        cluster_id: &ClusterId,
        label: &str,
        run: Option<&mut HistoryItem>,
        created_by: String,
    ) -> Result<Backup> {
        let job = run.as_ref().map(|item| item.job_id.clone());
        let job = job.as_ref();
        let template = LabelTemplate::parse(label).map_err(|e| Error::invalid("description", e))?;
        let engine = self.engine()?;
        let store = &self.inner().store;
        let cluster = self.get_cluster(scope, cluster_id).await?;
        let raw = self.inner().ids.next(self.inner().clock.as_ref());
        let backup_id = BackupId::from_raw(raw);
        let lock = ClusterLock {
            cluster_id: cluster.id.clone(),
            kind: LockKind::Backup,
            holder_id: backup_id.to_string(),
            job_id: job.cloned(),
            acquired_at: raw.time(),
            owner: self.inner().instance.clone(),
        };
        if let LockOutcome::HeldBy(holder) = store.acquire_lock(&lock).await? {
            return Err(Error::conflict(holder.to_string()));
        }
        // Cancellable from before anyone can see the backup; forgotten on every way out.
        let running = Running::new(self, &backup_id);
        // From here on the lock is ours: release it on every way out. The cluster is read
        // again under the lock, so no change can slip in between the check and the backup.
        let recorded = async {
            let current = self.get_cluster(scope, cluster_id).await?;
            if current.status != ClusterStatus::Available {
                return Err(Error::conflict(format!(
                    "cluster {} is {}: only an available cluster can be backed up",
                    current.id,
                    current.status.as_str()
                )));
            }
            let index = store.count_backups_of_cluster(&cluster.id).await? + 1;
            let description = template.render(&LabelContext {
                index,
                cluster_description: &cluster.description,
                cluster_id: cluster.id.as_str(),
                cluster_provider: &cluster.provider,
                time: raw.time(),
            });
            let backup = Backup {
                id: backup_id.clone(),
                project_id: cluster.project_id.clone(),
                description,
                source_cluster_id: cluster.id.clone(),
                source_cluster_description: cluster.description.clone(),
                provider: cluster.provider.clone(),
                region: cluster.region.clone(),
                server_version: cluster.server_version.clone(),
                server_version_tag: cluster.server_version_tag.clone(),
                size_gb: cluster.disk_size_gb,
                available_node_count: 0,
                status: BackupStatus::Creating,
                created: raw.time(),
                linked_resource: job.cloned(),
                bytes_stored: None,
                bytes_new: None,
                file_count: None,
                checksum: None,
                progress: None,
                failure_reason: None,
                finished: None,
                contents: None,
                verification: None,
                source_shape: Some(cairn_model::ClusterShape {
                    topology: cluster.topology,
                    instance_type: cluster.instance_type,
                    projection_level: cluster.projection_level,
                }),
                created_by: Some(created_by),
            };
            let _writing = self.writing_backups();
            store.insert_backup(&backup).await?;
            Ok::<_, Error>(backup)
        }
        .await;
        let backup = match recorded {
            Ok(backup) => backup,
            Err(error) => {
                self.release(&cluster.id, backup_id.as_str()).await;
                return Err(error);
            }
        };
        let run = match run {
            None => None,
            Some(item) => {
                item.linked_resource = Some(backup.id.clone());
                item.details = format!("backup {} of cluster {} started", backup.id, cluster.id);
                if let Err(error) = store.update_history(item).await {
                    self.release(&cluster.id, backup_id.as_str()).await;
                    return Err(error);
                }
                Some(item.clone())
            }
        };
        tracing::info!(backup.id = %backup.id, cluster.id = %cluster.id, "backup started");
        let services = self.clone();
        let started = backup.clone();
        self.spawn(async move {
            services
                .take_snapshot(cluster, started, engine, run, running)
                .await
        });
        Ok(backup)
    }

    /// `run` is the job run that made the backup, closed when the snapshot ends.
    async fn take_snapshot(
        &self,
        cluster: Cluster,
        backup: Backup,
        engine: Arc<dyn Engine>,
        run: Option<HistoryItem>,
        mut running: Running,
    ) {
        let sink: ProgressSink = {
            let services = self.clone();
            let id = backup.id.clone();
            Arc::new(move |progress| {
                services
                    .inner()
                    .progress
                    .lock()
                    .expect("progress map")
                    .insert(id.clone(), progress);
            })
        };
        let deadline = self.inner().snapshot_deadline;
        let snapshot = tokio::time::timeout(deadline, engine.snapshot(&cluster, &backup, sink));
        let (outcome, stopped) = tokio::select! {
            outcome = snapshot => (Some(outcome), None),
            Ok((who, stopped)) = &mut running.cancelled => (None, Some((who, stopped))),
        };
        // From here the backup ends as it ends: no new cancel is taken.
        running.ended();
        let (event, facts, failure) = match outcome {
            None => {
                let who = stopped.as_ref().map_or("", |(who, _)| who.as_str());
                (
                    BackupEvent::Cancelled,
                    None,
                    Some(("cancelled", format!("cancelled by {who}"))),
                )
            }
            Some(outcome) => match outcome {
                Ok(Ok(facts)) => (BackupEvent::SnapshotSucceeded, Some(facts), None),
                Ok(Err(error)) => {
                    let kind = match error {
                        crate::ports::EngineError::Unhealthy(_) => "unhealthy",
                        _ => "failed",
                    };
                    (
                        BackupEvent::SnapshotFailed,
                        None,
                        Some((kind, error.to_string())),
                    )
                }
                Err(_) => (
                    BackupEvent::DeadlinePassed,
                    None,
                    Some((
                        "deadline",
                        format!(
                            "the snapshot did not finish within {} seconds",
                            deadline.as_secs()
                        ),
                    )),
                ),
            },
        };
        if matches!(event, BackupEvent::DeadlinePassed | BackupEvent::Cancelled) {
            // The engine may still write the snapshot after we gave up: remove what it left.
            if let Err(error) = engine.delete_snapshot(&backup).await {
                tracing::warn!(backup.id = %backup.id, %error, "could not clean a timed-out snapshot");
            }
        }
        if let Err(error) = self.finish_backup(backup, event, facts, failure, run).await {
            // Left `creating` and locked: the next start settles it.
            tracing::error!(%error, "could not record the end of a backup");
        }
        // Whoever cancelled hears once the end is recorded; so does a cancel that arrived as
        // the snapshot ended on its own.
        let late = running.cancelled.try_recv().ok();
        for (_, stopped) in stopped.into_iter().chain(late) {
            let _ = stopped.send(());
        }
    }

    /// `failure`: why it failed, as a kind (`unhealthy`, `failed`, `deadline`, `interrupted`,
    /// for the metrics) and a sentence (for people).
    async fn finish_backup(
        &self,
        mut backup: Backup,
        event: BackupEvent,
        facts: Option<SnapshotFacts>,
        failure: Option<(&'static str, String)>,
        run: Option<HistoryItem>,
    ) -> Result<()> {
        let reason = failure.as_ref().map(|(_, sentence)| sentence.clone());
        backup.status = backup_transition(backup.status, event).map_err(Error::conflict_from)?;
        if let Some(facts) = facts {
            backup.bytes_stored = Some(facts.bytes_stored);
            backup.bytes_new = Some(facts.bytes_new);
            backup.file_count = Some(facts.file_count);
            backup.checksum = Some(facts.checksum);
            backup.available_node_count = facts.available_node_count;
            backup.contents = facts.contents;
        }
        backup.finished = Some(self.inner().clock.now());
        backup.failure_reason = reason.clone();
        {
            let _writing = self.writing_backups();
            self.inner().store.update_backup(&backup).await?;
        }
        let seconds = (self.inner().clock.now() - backup.created).num_milliseconds() as f64 / 1e3;
        self.inner().metrics.count(|m| match &failure {
            None => {
                *m.backups.entry("available").or_default() += 1;
                m.backup_seconds.observe(seconds.max(0.0));
                m.stored_bytes += backup.bytes_stored.unwrap_or(0);
                m.new_bytes += backup.bytes_new.unwrap_or(0);
            }
            Some(("cancelled", _)) => *m.backups.entry("cancelled").or_default() += 1,
            Some((kind, _)) => {
                *m.backups.entry("defunct").or_default() += 1;
                *m.backup_failures.entry(kind).or_default() += 1;
            }
        });
        self.release(&backup.source_cluster_id, backup.id.as_str())
            .await;
        // Announced before the job's bookkeeping, which may fail: a defunct backup is always told.
        match &reason {
            None => tracing::info!(backup.id = %backup.id, "backup available"),
            // Someone asked for it: nothing to announce.
            Some(reason) if event == BackupEvent::Cancelled => {
                tracing::info!(backup.id = %backup.id, %reason, "backup cancelled");
            }
            Some(reason) => {
                tracing::warn!(backup.id = %backup.id, %reason, "backup defunct");
                self.raise(Notification {
                    scope: self.scope_of_backup(&backup).await,
                    category: "backup-failed",
                    subject: format!("Backup {} failed", backup.description),
                    message: format!(
                        "Backup {} of cluster {} is defunct: {reason}",
                        backup.id, backup.source_cluster_id
                    ),
                    resource_id: backup.id.to_string(),
                })
                .await;
            }
        }
        self.finish_job_run(&backup, run).await
    }

    /// The organization and project of a backup (through its source cluster, which stays
    /// readable after deletion).
    pub(crate) async fn scope_of_backup(&self, backup: &Backup) -> Option<crate::scope::Place> {
        let cluster = self
            .inner()
            .store
            .cluster(&backup.project_id, &backup.source_cluster_id)
            .await
            .ok()
            .flatten()?;
        Some(crate::scope::Place {
            organization_id: cluster.organization_id,
            project_id: cluster.project_id,
        })
    }

    /// Releases a lock we hold; a failure is logged (the next start releases it).
    pub(crate) async fn release(&self, cluster: &ClusterId, holder: &str) {
        if let Err(error) = self.inner().store.release_lock(cluster, holder).await {
            tracing::error!(cluster.id = %cluster, %error, "could not release a cluster lock");
        }
    }

    /// A backup of the project, with its live progress while it is being taken.
    pub async fn get_backup(&self, scope: &Scope, id: &BackupId) -> Result<Backup> {
        scope.require(Permission::Read)?;
        let backup = self
            .inner()
            .store
            .backup(&scope.project_id, id)
            .await?
            .ok_or_else(|| Error::not_found("backup", id))?;
        Ok(self.with_progress(backup))
    }

    /// The project's backups that are not deleted, oldest first.
    pub async fn list_backups(&self, scope: &Scope) -> Result<Vec<Backup>> {
        Ok(self.shared_backup_list(scope).await?.as_ref().clone())
    }

    /// The project's backups, as one list shared by every caller while it is current: the
    /// same `Arc` comes back until a backup changes, so a caller may keep what it made of it
    /// (the API keeps the list's JSON) for as long as `Arc::ptr_eq` holds. A list with a
    /// backup being taken is made anew each time, with that backup's live progress.
    pub async fn shared_backup_list(&self, scope: &Scope) -> Result<Arc<Vec<Backup>>> {
        scope.require(Permission::Read)?;
        let backups = self
            .inner()
            .backup_lists
            .read(
                self.inner().clock.as_ref(),
                self.inner().store.as_ref(),
                &scope.project_id,
            )
            .await?;
        if backups.iter().all(|b| b.status != BackupStatus::Creating) {
            return Ok(backups);
        }
        Ok(Arc::new(
            backups
                .iter()
                .cloned()
                .map(|b| self.with_progress(b))
                .collect(),
        ))
    }

    /// Held across every write of a backup: no list read before the write ends is kept
    /// after it, so whoever wrote reads it back at once.
    pub(crate) fn writing_backups(&self) -> Writing<'_, ProjectId, List> {
        self.inner().backup_lists.lists.writing()
    }

    pub(crate) fn with_progress(&self, mut backup: Backup) -> Backup {
        if backup.status == BackupStatus::Creating {
            backup.progress = self
                .inner()
                .progress
                .lock()
                .expect("progress map")
                .get(&backup.id)
                .copied();
        }
        backup
    }

    /// A backup whose snapshot will never finish (its instance died): defunct, its partial
    /// snapshot removed, its run closed, its lock released.
    pub(crate) async fn settle_interrupted_backup(&self, backup: Backup) -> Result<()> {
        if let Some(engine) = &self.inner().engine {
            if let Err(error) = engine.delete_snapshot(&backup).await {
                tracing::warn!(backup.id = %backup.id, %error, "could not clean an interrupted snapshot");
            }
        }
        let reason = "Cairn stopped while this backup was being taken".to_owned();
        let failure = Some(("interrupted", reason));
        self.finish_backup(backup, BackupEvent::Interrupted, None, failure, None)
            .await
    }
}

impl Services {
    /// The backups clusters are being restored from now, each with its cluster (backup ids
    /// are unique across projects).
    pub(crate) async fn being_restored(
        &self,
    ) -> Result<std::collections::HashMap<BackupId, ClusterId>> {
        Ok(self
            .inner()
            .store
            .clusters_with_status(ClusterStatus::Provisioning)
            .await?
            .into_iter()
            .filter_map(|c| Some((c.source_backup_id?, c.id)))
            .collect())
    }

    /// Deletes a backup (soft: it stays readable by id, leaves the lists). Refused while it is
    /// being created, or while a cluster is being restored from it.
    pub async fn delete_backup(&self, scope: &Scope, id: &BackupId) -> Result<Backup> {
        let record = Record::in_scope(
            scope,
            actions::BACKUP_DELETE,
            Subject::new("backup", id, ""),
        );
        self.audited(record, self.deleting_backup(scope, id), |backup, _| {
            Subject::new("backup", id, backup_summary(backup))
        })
        .await
    }

    async fn deleting_backup(&self, scope: &Scope, id: &BackupId) -> Result<Backup> {
        scope.require(Permission::Operate)?;
        let mut backup = self.get_backup(scope, id).await?;
        let store = &self.inner().store;
        if let Some(cluster) = self.being_restored().await?.get(id) {
            return Err(Error::conflict(format!(
                "backup {id} is being restored into cluster {cluster}; delete it once that cluster is available"
            )));
        }
        backup.status = backup_transition(backup.status, BackupEvent::DeleteRequested)
            .map_err(Error::conflict_from)?;
        {
            let _writing = self.writing_backups();
            store.update_backup(&backup).await?;
        }
        let services = self.clone();
        let deleting = backup.clone();
        self.spawn(async move {
            if let Err(error) = services.finish_deleting(deleting, true).await {
                tracing::warn!(%error, "backup deletion did not finish; retried on the next start");
            }
        });
        Ok(backup)
    }

    /// Refuses to go on when a region whose repository is about to be created afresh has
    /// available backups: its repository was moved or lost, and a new empty one in its place
    /// would make every one of them fail to restore while still listed available.
    pub async fn refuse_new_repositories_under_backups(&self, regions: &[String]) -> Result<()> {
        let available = self
            .inner()
            .store
            .backups_with_status(cairn_model::BackupStatus::Available)
            .await?;
        for region in regions {
            let count = available.iter().filter(|b| &b.region == region).count();
            if count > 0 {
                return Err(Error::Unavailable(format!(
                    "region {region} has {count} available backup(s), but there is no snapshot \
                     repository where its configuration now points: it was moved or lost. Point \
                     the configuration back at it, or copy the repository to the new place, \
                     then start Cairn again (nothing was created)"
                )));
            }
        }
        Ok(())
    }

    /// Where each of the site's regions keeps its backups, and how (for the backups page).
    pub async fn backup_storage(&self, scope: &Scope) -> Result<Vec<cairn_model::RepositoryFacts>> {
        scope.require(Permission::Read)?;
        let engine = self.engine()?;
        let mut facts = Vec::new();
        for region in &self.site().regions {
            let found = engine
                .repository_facts(region)
                .await
                .map_err(|e| Error::Unavailable(e.to_string()))?;
            facts.extend(found);
        }
        Ok(facts)
    }

    /// The project's backups as the console lists them: grouped by job, then one-offs.
    pub async fn list_backups_grouped(&self, scope: &Scope) -> Result<GroupedBackups> {
        let backups = self.list_backups(scope).await?;
        let mut jobs = Vec::new();
        for job_id in backups.iter().filter_map(|b| b.linked_resource.as_ref()) {
            if jobs.iter().any(|j: &cairn_model::Job| &j.id == job_id) {
                continue;
            }
            if let Some(job) = self.inner().store.job(&scope.project_id, job_id).await? {
                jobs.push(job);
            }
        }
        Ok(group_backups(&backups, &jobs))
    }
}

/// A backup in the audit's words: its label, of which cluster, by whom.
pub(crate) fn backup_summary(backup: &Backup) -> String {
    format!(
        "{} of cluster {}",
        backup.description, backup.source_cluster_description
    )
}
