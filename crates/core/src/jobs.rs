//! Scheduled backup jobs: create, pause, resume, delete, run now. Every run writes a history
//! item (`started → succeeded | failed`, with a sentence saying what happened); after each
//! successful run the job's backups are pruned.

use crate::audit::{Record, Subject};
use crate::error::{Error, Result};
use crate::lifecycle::{job_transition, run_transition, BackupEvent, JobEvent, RunEvent};
use crate::ports::Notification;
use crate::retention::{plan_prune, PrunePlan};
use crate::services::{Scope, Services};
use cairn_model::audit::actions;
use cairn_model::Permission;
use cairn_model::{
    check_job_request, Backup, BackupStatus, CreateJobRequest, EditJobRequest, FieldErrors,
    HistoryId, HistoryItem, HistoryStatus, Job, JobId, JobStatus, JobType,
};

/// How many runs the history shows at most (the latest).
pub const HISTORY_SHOWN: u32 = 1000;
/// How many of a job's latest runs its console page shows (it is read again every few seconds).
pub const HISTORY_ON_PAGE: u32 = 100;
/// How long a finished run stays in the history.
pub const HISTORY_KEPT: chrono::TimeDelta = chrono::TimeDelta::days(90);

impl Services {
    pub async fn create_job(&self, scope: &Scope, request: &CreateJobRequest) -> Result<Job> {
        let subject = Subject::new(
            "cluster",
            &request.data.cluster_id,
            format!("job {}", request.description.trim()),
        );
        let record = Record::in_scope(scope, actions::JOB_CREATE, subject);
        self.audited(record, self.creating_job(scope, request), |job, _| {
            job_subject(job)
        })
        .await
    }

    async fn creating_job(&self, scope: &Scope, request: &CreateJobRequest) -> Result<Job> {
        scope.require(Permission::Operate)?;
        let mut errors = check_job_request(request);
        let store = &self.inner().store;
        if store
            .cluster(&scope.project_id, &request.data.cluster_id)
            .await?
            .is_none()
        {
            errors.insert(
                "data.clusterId".into(),
                format!("cluster {} was not found", request.data.cluster_id),
            );
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let raw = self.inner().ids.next(self.inner().clock.as_ref());
        let job = Job {
            id: JobId::from_raw(raw),
            organization_id: scope.organization_id.clone(),
            project_id: scope.project_id.clone(),
            description: request.description.trim().to_owned(),
            schedule: cairn_model::schedule::Schedule::parse(&request.schedule)
                .expect("checked above")
                .to_string(),
            status: JobStatus::Running,
            job_type: JobType::ScheduledBackup,
            data: request.data.clone(),
            created: raw.time(),
        };
        store.insert_job(&job).await?;
        self.wake_scheduler();
        Ok(job)
    }

    pub async fn get_job(&self, scope: &Scope, id: &JobId) -> Result<Job> {
        scope.require(Permission::Read)?;
        self.inner()
            .store
            .job(&scope.project_id, id)
            .await?
            .ok_or_else(|| Error::not_found("job", id))
    }

    pub async fn list_jobs(&self, scope: &Scope) -> Result<Vec<Job>> {
        scope.require(Permission::Read)?;
        self.inner().store.jobs(&scope.project_id).await
    }

    /// The project's jobs that are not deleted, of one type when given: what
    /// `orchestrate jobs list` answers.
    pub async fn list_jobs_of_type(
        &self,
        scope: &Scope,
        job_type: Option<JobType>,
    ) -> Result<Vec<Job>> {
        scope.require(Permission::Read)?;
        Ok(self
            .list_jobs(scope)
            .await?
            .into_iter()
            .filter(|j| j.status != JobStatus::Deleted)
            .filter(|j| job_type.is_none_or(|t| j.job_type == t))
            .collect())
    }

    /// A job's latest runs (at most [`HISTORY_SHOWN`]), oldest first.
    pub async fn job_history(&self, scope: &Scope, id: &JobId) -> Result<Vec<HistoryItem>> {
        scope.require(Permission::Read)?;
        let job = self.get_job(scope, id).await?;
        let mut runs = self.inner().store.history(&job.id, HISTORY_SHOWN).await?;
        runs.reverse();
        Ok(runs)
    }

    /// The project's latest runs (of one job, when given), newest first, at most
    /// [`HISTORY_SHOWN`]: what `orchestrate history list` answers.
    pub async fn list_history(
        &self,
        scope: &Scope,
        job: Option<&JobId>,
    ) -> Result<Vec<HistoryItem>> {
        scope.require(Permission::Read)?;
        if let Some(job) = job {
            self.get_job(scope, job).await?;
        }
        self.inner()
            .store
            .project_history(&scope.project_id, job, HISTORY_SHOWN)
            .await
    }

    /// Forgets runs that ended more than [`HISTORY_KEPT`] ago (each job keeps its latest).
    pub async fn prune_history(&self) -> Result<u64> {
        let before = self.inner().clock.now() - HISTORY_KEPT;
        self.inner().store.prune_history(before).await
    }

    /// Changes a job's description, schedule, label template or how many backups it keeps
    /// (never its cluster or type), by the rules of creating one, every broken rule at once. A
    /// changed schedule counts from now, so it fires no run it would have "missed". Only the
    /// edited settings are written: a pause racing the edit keeps its status.
    pub async fn edit_job(&self, scope: &Scope, id: &JobId, edit: &EditJobRequest) -> Result<Job> {
        let record = Record::in_scope(scope, actions::JOB_EDIT, Subject::new("job", id, ""));
        self.audited(record, self.editing_job(scope, id, edit), |job, _| {
            job_subject(job)
        })
        .await
    }

    async fn editing_job(&self, scope: &Scope, id: &JobId, edit: &EditJobRequest) -> Result<Job> {
        scope.require(Permission::Operate)?;
        let mut job = self.get_job(scope, id).await?;
        if job.status == JobStatus::Deleted {
            return Err(Error::conflict(format!("job {id} is deleted")));
        }
        let backups = edit.data.clone().unwrap_or_default();
        let restore_test = job.job_type == JobType::ScheduledRestoreTest;
        let mut errors = FieldErrors::new();
        if restore_test && (backups.description.is_some() || backups.max_backup_count.is_some()) {
            errors.insert(
                "data".into(),
                "a restore test has no backup label or keep count to change".into(),
            );
        }
        let wanted = CreateJobRequest {
            description: edit.description.clone().unwrap_or(job.description.clone()),
            schedule: edit.schedule.clone().unwrap_or(job.schedule.clone()),
            data: cairn_model::ScheduledBackupData {
                cluster_id: job.data.cluster_id.clone(),
                description: backups.description.unwrap_or(job.data.description.clone()),
                max_backup_count: backups
                    .max_backup_count
                    .unwrap_or(job.data.max_backup_count),
            },
        };
        errors.extend(
            check_job_request(&wanted)
                .into_iter()
                // A restore test keeps no backups of its own: it has neither to check.
                .filter(|(field, _)| !(restore_test && field.starts_with("data."))),
        );
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let schedule = cairn_model::schedule::Schedule::parse(&wanted.schedule)
            .expect("checked above")
            .to_string();
        job.description = wanted.description.trim().to_owned();
        job.schedule = schedule;
        job.data = wanted.data;
        let now = self.inner().clock.now();
        match self.inner().store.edit_job(&job, now).await {
            // Deleted since it was read.
            Err(Error::NotFound { .. }) => {
                return Err(Error::conflict(format!("job {id} is deleted")));
            }
            written => written?,
        }
        self.wake_scheduler();
        self.get_job(scope, id).await
    }

    /// Pause, resume or delete. Deleting a job keeps its backups. A resumed job's schedule
    /// counts from now: runs that fell due while it was paused are not fired.
    pub async fn change_job(&self, scope: &Scope, id: &JobId, event: JobEvent) -> Result<Job> {
        let action = match event {
            JobEvent::Pause => actions::JOB_PAUSE,
            JobEvent::Resume => actions::JOB_RESUME,
            JobEvent::Delete => actions::JOB_DELETE,
        };
        let record = Record::in_scope(scope, action, Subject::new("job", id, ""));
        self.audited(record, self.changing_job(scope, id, event), |job, _| {
            job_subject(job)
        })
        .await
    }

    async fn changing_job(&self, scope: &Scope, id: &JobId, event: JobEvent) -> Result<Job> {
        scope.require(Permission::Operate)?;
        let mut job = self.get_job(scope, id).await?;
        job.status = job_transition(job.status, event).map_err(Error::conflict_from)?;
        let store = &self.inner().store;
        if event == JobEvent::Resume {
            store
                .set_schedule_from(&job.id, self.inner().clock.now())
                .await?;
        }
        store.update_job(&job).await?;
        self.wake_scheduler();
        Ok(job)
    }

    /// Runs the job once, now. A locked cluster makes the run fail at once, recorded in the
    /// job's history; the answer is the history item either way.
    pub async fn run_job_now(&self, scope: &Scope, id: &JobId) -> Result<HistoryItem> {
        let record = Record::in_scope(scope, actions::JOB_RUN, Subject::new("job", id, ""));
        let work = async {
            scope.require(Permission::Operate)?;
            let job = self.get_job(scope, id).await?;
            if job.status == JobStatus::Deleted {
                return Err(Error::conflict(format!("job {} is deleted", job.id)));
            }
            let run = self.run_job(scope, &job).await?;
            Ok((job, run))
        };
        let (_, run) = self
            .audited(record, work, |(job, run), _| {
                let summary = format!("job {}: run {}, {}", job.description, run.id, run.details);
                Subject::new("job", &job.id, summary)
            })
            .await?;
        Ok(run)
    }

    pub(crate) async fn run_job(&self, scope: &Scope, job: &Job) -> Result<HistoryItem> {
        let item = self.new_run(job);
        self.inner().store.insert_history(&item).await?;
        self.execute_run(scope, job, item).await
    }

    /// A history item for a run starting now.
    pub(crate) fn new_run(&self, job: &Job) -> HistoryItem {
        let raw = self.inner().ids.next(self.inner().clock.as_ref());
        HistoryItem {
            id: HistoryId::from_raw(raw),
            job_id: job.id.clone(),
            organization_id: job.organization_id.clone(),
            project_id: job.project_id.clone(),
            status: HistoryStatus::Started,
            details: format!("backup of cluster {} starting", job.data.cluster_id),
            linked_resource: None,
            start_time: raw.time(),
            end_time: None,
        }
    }

    /// Starts the backup of a run whose history item is stored. A run that cannot start (a
    /// locked cluster, say) ends `failed` at once, with the reason as its details.
    pub(crate) async fn execute_run(
        &self,
        scope: &Scope,
        job: &Job,
        mut item: HistoryItem,
    ) -> Result<HistoryItem> {
        if job.job_type == JobType::ScheduledRestoreTest {
            return self.execute_restore_test(scope, job, item).await;
        }
        if let Err(error) = self
            .start_backup(
                scope,
                &job.data.cluster_id,
                &job.data.description,
                Some(&mut item),
                format!("job {}", job.description),
            )
            .await
        {
            let kind = if error.to_string().contains("is locked") {
                "locked"
            } else {
                "refused"
            };
            self.inner()
                .metrics
                .count(|m| *m.backup_failures.entry(kind).or_default() += 1);
            self.end_run(&mut item, RunEvent::Failed, error.to_string())
                .await?;
            self.raise(Notification {
                scope: Some(scope.place()),
                category: "scheduled-run-failed",
                subject: format!("Scheduled backup “{}” did not run", job.description),
                message: format!("Run {} of job {} failed at once: {error}", item.id, job.id),
                resource_id: job.id.to_string(),
            })
            .await;
        }
        Ok(item)
    }

    pub(crate) async fn end_run(
        &self,
        item: &mut HistoryItem,
        event: RunEvent,
        details: String,
    ) -> Result<()> {
        item.status = run_transition(item.status, event).map_err(Error::conflict_from)?;
        item.details = details;
        item.end_time = Some(self.inner().clock.now());
        // Only a run still started is ended: one that recovery settled meanwhile keeps what
        // it says (two ends for one run would contradict each other).
        if !self.inner().store.end_run_if_started(item).await? {
            tracing::warn!(history.id = %item.id, "the run had ended already; its late end is not recorded");
            return Ok(());
        }
        let outcome = match event {
            RunEvent::Succeeded => "succeeded",
            RunEvent::Failed => "failed",
        };
        self.inner()
            .metrics
            .count(|m| *m.job_runs.entry(outcome).or_default() += 1);
        Ok(())
    }

    /// Called when a backup a job made has finished: closes the run's history item, and after
    /// a success prunes the job's backups. `run` is the item when the caller has it (the
    /// snapshot that started it); after a restart it is found by its backup.
    pub(crate) async fn finish_job_run(
        &self,
        backup: &Backup,
        run: Option<HistoryItem>,
    ) -> Result<()> {
        let Some(job_id) = &backup.linked_resource else {
            return Ok(());
        };
        let store = &self.inner().store;
        let run = match run {
            Some(item) => Some(item),
            None => store.run_of_backup(job_id, &backup.id).await?,
        };
        if let Some(mut item) = run.filter(|item| item.status == HistoryStatus::Started) {
            let (event, details) = match &backup.failure_reason {
                None => (
                    RunEvent::Succeeded,
                    format!("backup {} is available", backup.id),
                ),
                Some(reason) if backup.status == BackupStatus::Cancelled => (
                    RunEvent::Failed,
                    format!("backup {} was {reason}", backup.id),
                ),
                Some(reason) => (
                    RunEvent::Failed,
                    format!("backup {} is defunct: {reason}", backup.id),
                ),
            };
            self.end_run(&mut item, event, details).await?;
        }
        if backup.status == BackupStatus::Available {
            let job = store.job(&backup.project_id, job_id).await?;
            if let Some(job) = job {
                self.prune(&job).await?;
            }
        }
        Ok(())
    }

    /// What pruning the job's backups now would delete (a dry run).
    pub async fn plan_job_retention(&self, scope: &Scope, id: &JobId) -> Result<PrunePlan> {
        scope.require(Permission::Read)?;
        let job = self.get_job(scope, id).await?;
        self.plan_prune_now(&job).await
    }

    /// The job's retention as it stands now: what would be deleted, and what must wait because
    /// a cluster is being restored from it.
    async fn plan_prune_now(&self, job: &Job) -> Result<PrunePlan> {
        let backups = self.inner().store.job_backups(&job.id).await?;
        let restoring = self.being_restored().await?;
        Ok(plan_prune(&backups, job.data.max_backup_count, |id| {
            restoring.get(id).map(|cluster| cluster.to_string())
        }))
    }

    /// Plans and deletes. Each deletion goes `deleting → deleted` with the snapshot removed in
    /// between; one that fails stays `deleting` and is finished on the next start.
    async fn prune(&self, job: &Job) -> Result<()> {
        let store = &self.inner().store;
        let plan = self.plan_prune_now(job).await?;
        for (id, reason) in &plan.deferred {
            tracing::info!(backup.id = %id, job.id = %job.id, %reason, "pruning put off");
        }
        for (id, reason) in plan.delete {
            let Some(mut backup) = store.backup(&job.project_id, &id).await? else {
                continue;
            };
            tracing::info!(backup.id = %id, job.id = %job.id, %reason, "pruning backup");
            backup.status =
                crate::lifecycle::backup_transition(backup.status, BackupEvent::DeleteRequested)
                    .map_err(Error::conflict_from)?;
            {
                let _writing = self.writing_backups();
                store.update_backup(&backup).await?;
            }
            self.finish_deleting(backup, true).await?;
        }
        Ok(())
    }

    /// Removes a `deleting` backup's snapshot, then marks it deleted. A failure is announced
    /// when `announce` (the first try, asked for by a person or a prune); the sweeps that
    /// retry it every few seconds stay quiet, or one stuck snapshot would flood integrations.
    pub(crate) async fn finish_deleting(&self, mut backup: Backup, announce: bool) -> Result<()> {
        if let Some(engine) = &self.inner().engine {
            if let Err(error) = engine.delete_snapshot(&backup).await {
                // Busy (a restore of it runs) is for later, not a failure to tell anyone.
                if announce && !matches!(error, crate::ports::EngineError::Busy(_)) {
                    self.raise(Notification {
                        scope: self.scope_of_backup(&backup).await,
                        category: "backup-deletion-failed",
                        subject: format!("Backup {} could not be deleted", backup.description),
                        message: format!(
                        "The snapshot of backup {} was not deleted: {error}. It stays `deleting` \
                         and Cairn keeps retrying.",
                        backup.id
                    ),
                        resource_id: backup.id.to_string(),
                    })
                    .await;
                }
                return Err(Error::Unavailable(format!(
                    "snapshot of backup {} not deleted: {error}",
                    backup.id
                )));
            }
        }
        backup.status =
            crate::lifecycle::backup_transition(backup.status, BackupEvent::DeleteFinished)
                .map_err(Error::conflict_from)?;
        let _writing = self.writing_backups();
        self.inner().store.update_backup(&backup).await?;
        Ok(())
    }
}

/// A job in the audit's words.
fn job_subject(job: &Job) -> Subject {
    Subject::new("job", &job.id, format!("job {}", job.description))
}
