//! Lists a page at a time: backups, jobs, job runs and events, each read by keyset from the
//! store (`cairn_model::paging`), filtered and in either order of creation. Beside the whole
//! lists (`list_backups`, `list_jobs`, `list_history`, `events`), which the API still answers
//! when no paging is asked for.
//!
//! Each use case checks its scope as its whole-list neighbour does, then which filters its
//! list takes: a filter another list takes, or a status word this list does not know, is
//! refused naming the field, rather than ignored.

use crate::error::{Error, Result};
use crate::services::{Scope, Services};
use cairn_model::{
    Backup, Event, HistoryItem, Job, JobGroup, JobId, JobOverview, JobStatus, JobType, Page,
    PageQuery, PageRequest, Permission,
};

pub use cairn_model::paging::{BACKUP_STATUSES, EVENT_STATES, JOB_STATUSES, RUN_STATUSES};

/// The checked request of a query (size, token, order and free text), or every wrong part.
pub fn page_request(query: &PageQuery) -> Result<PageRequest> {
    query.request().map_err(Error::Invalid)
}

/// Which filters a list takes, and the words its `status` takes.
struct Takes {
    what: &'static str,
    statuses: &'static [&'static str],
    cluster: bool,
    job: bool,
}

impl Takes {
    fn check(&self, request: &PageRequest) -> Result<()> {
        let f = &request.filters;
        let mut errors = std::collections::BTreeMap::new();
        if let Some(status) = &f.status {
            if !self.statuses.contains(&status.as_str()) {
                errors.insert(
                    "status".to_owned(),
                    format!(
                        "'{status}' is not a status {} are listed by: use {}",
                        self.what,
                        self.statuses.join(", ")
                    ),
                );
            }
        }
        if f.cluster_id.is_some() && !self.cluster {
            errors.insert(
                "clusterId".to_owned(),
                format!("{} are not filtered by cluster", self.what),
            );
        }
        if f.job_id.is_some() && !self.job {
            errors.insert(
                "jobId".to_owned(),
                format!("{} are not filtered by job", self.what),
            );
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(errors))
        }
    }
}

impl Services {
    /// A page of the project's backups that are not deleted (see `BackupStore::backups_page`
    /// for the filters), those being taken with their live progress.
    pub async fn page_backups(&self, scope: &Scope, request: &PageRequest) -> Result<Page<Backup>> {
        scope.require(Permission::Read)?;
        Takes {
            what: "backups",
            statuses: BACKUP_STATUSES,
            cluster: true,
            job: true,
        }
        .check(request)?;
        let page = self
            .inner()
            .store
            .backups_page(&scope.project_id, request)
            .await?;
        Ok(page.map(|b| self.with_progress(b)))
    }

    /// Each job with backups in the project, counted ("<job> - N backups - M available"), the
    /// job with the newest backup first: the backups page's summary rows, counted by the
    /// store in one query however many backups there are (none is read).
    pub async fn backup_job_groups(&self, scope: &Scope) -> Result<Vec<JobGroup>> {
        scope.require(Permission::Read)?;
        let store = &self.inner().store;
        let mut counts = store.job_backup_counts(&scope.project_id).await?;
        counts.sort_by(|a, b| (b.newest, &b.job_id).cmp(&(a.newest, &a.job_id)));
        let mut groups = Vec::with_capacity(counts.len());
        for count in counts {
            let job = store.job(&scope.project_id, &count.job_id).await?;
            groups.push(JobGroup {
                job_description: job
                    .as_ref()
                    .map_or_else(|| count.job_id.to_string(), |j| j.description.clone()),
                job_deleted: job.is_some_and(|j| j.status == JobStatus::Deleted),
                job_id: count.job_id,
                count: usize::try_from(count.count).unwrap_or(usize::MAX),
                available: usize::try_from(count.available).unwrap_or(usize::MAX),
            });
        }
        Ok(groups)
    }

    /// A page of the project's jobs that are not deleted, of one type when given.
    pub async fn page_jobs(
        &self,
        scope: &Scope,
        job_type: Option<JobType>,
        request: &PageRequest,
    ) -> Result<Page<Job>> {
        scope.require(Permission::Read)?;
        Takes {
            what: "jobs",
            statuses: JOB_STATUSES,
            cluster: true,
            job: false,
        }
        .check(request)?;
        self.inner()
            .store
            .jobs_page(&scope.project_id, job_type, request)
            .await
    }

    /// A page of the project's jobs (every type) as the jobs list shows them: with their
    /// cluster's name, next run and last run.
    pub async fn page_job_overviews(
        &self,
        scope: &Scope,
        request: &PageRequest,
    ) -> Result<Page<JobOverview>> {
        let page = self.page_jobs(scope, None, request).await?;
        let clusters = self.list_clusters(scope).await?;
        let mut last_runs = self.inner().store.last_runs(&scope.project_id).await?;
        Ok(page.map(|job| {
            let last = last_runs.remove(&job.id);
            self.overview(job, &clusters, last)
        }))
    }

    /// A page of the project's job runs, by when they started. A job named by the filter must
    /// be the project's (else not found, as for `list_history`).
    pub async fn page_history(
        &self,
        scope: &Scope,
        request: &PageRequest,
    ) -> Result<Page<HistoryItem>> {
        scope.require(Permission::Read)?;
        Takes {
            what: "runs",
            statuses: RUN_STATUSES,
            cluster: true,
            job: true,
        }
        .check(request)?;
        if let Some(job) = &request.filters.job_id {
            let id = JobId::parse(job).map_err(|_| Error::not_found("job", job))?;
            self.get_job(scope, &id).await?;
        }
        self.inner()
            .store
            .history_page(&scope.project_id, request)
            .await
    }

    /// A page of the project's events (test messages are in their integration's delivery
    /// log, not here).
    pub async fn page_events(&self, scope: &Scope, request: &PageRequest) -> Result<Page<Event>> {
        scope.require(Permission::Read)?;
        Takes {
            what: "events",
            statuses: EVENT_STATES,
            cluster: true,
            job: true,
        }
        .check(request)?;
        self.inner()
            .store
            .events_page(&scope.project_id, request)
            .await
    }
}

#[cfg(test)]
mod tests;
