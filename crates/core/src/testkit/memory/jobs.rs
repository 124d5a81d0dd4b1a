//! Jobs, history and claims, in memory.

use super::InMemoryStore;
use crate::error::{Error, Result};
use crate::ports::JobStore;
use async_trait::async_trait;
use cairn_model::{
    BackupId, HistoryItem, HistoryStatus, Job, JobId, JobStatus, JobType, Page, PageRequest,
    ProjectId,
};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

#[async_trait]
impl JobStore for InMemoryStore {
    async fn insert_job(&self, job: &Job) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state.schedule_from.insert(job.id.clone(), job.created);
        state.jobs.insert(job.id.clone(), job.clone());
        Ok(())
    }

    async fn job(&self, project: &ProjectId, id: &JobId) -> Result<Option<Job>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .jobs
            .get(id)
            .filter(|j| &j.project_id == project)
            .cloned())
    }

    async fn jobs(&self, project: &ProjectId) -> Result<Vec<Job>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .jobs
            .rows
            .iter()
            .filter(|j| &j.project_id == project && j.status != JobStatus::Deleted)
            .cloned()
            .collect())
    }

    async fn jobs_page(
        &self,
        project: &ProjectId,
        job_type: Option<JobType>,
        request: &PageRequest,
    ) -> Result<Page<Job>> {
        let f = &request.filters;
        let state = self.state.lock().unwrap();
        let rows: Vec<Job> = state
            .jobs
            .rows
            .iter()
            .filter(|j| &j.project_id == project && j.status != JobStatus::Deleted)
            .filter(|j| job_type.is_none_or(|t| j.job_type == t))
            .filter(|j| f.status.as_deref().is_none_or(|s| j.status.as_str() == s))
            .filter(|j| {
                f.cluster_id
                    .as_deref()
                    .is_none_or(|c| j.data.cluster_id.as_str() == c)
            })
            .filter(|j| f.job_id.as_deref().is_none_or(|id| j.id.as_str() == id))
            .filter(|j| {
                f.text_matches(&[
                    &j.description,
                    &j.data.description,
                    j.id.as_str(),
                    j.data.cluster_id.as_str(),
                ])
            })
            .cloned()
            .collect();
        Ok(Page::select(rows, request, |j| {
            (j.created, j.id.to_string())
        }))
    }

    async fn update_job(&self, job: &Job) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        state
            .jobs
            .replace(&job.id, job.clone(), "job", job.id.to_string())
    }

    async fn edit_job(&self, job: &Job, now: DateTime<Utc>) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        let stored = state
            .jobs
            .get_mut(&job.id)
            .filter(|stored| stored.status != cairn_model::JobStatus::Deleted)
            .ok_or_else(|| crate::Error::not_found("job", &job.id))?;
        let rescheduled = stored.schedule != job.schedule;
        stored.description = job.description.clone();
        stored.schedule = job.schedule.clone();
        stored.data.description = job.data.description.clone();
        stored.data.max_backup_count = job.data.max_backup_count;
        if rescheduled {
            state.schedule_from.insert(job.id.clone(), now);
        }
        Ok(())
    }

    async fn insert_history(&self, item: &HistoryItem) -> Result<()> {
        self.state.lock().unwrap().push_history(item);
        Ok(())
    }

    async fn update_history(&self, item: &HistoryItem) -> Result<()> {
        let mut state = self.state.lock().unwrap();
        if !state.history.contains_key(&item.id) {
            return Err(Error::NotFound {
                what: "history item",
                id: item.id.to_string(),
            });
        }
        state.put_history(item);
        Ok(())
    }

    async fn history(&self, job: &JobId, limit: u32) -> Result<Vec<HistoryItem>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .history_by_job
            .get(job)
            .into_iter()
            .flat_map(|ids| ids.iter().rev())
            .take(limit as usize)
            .map(|id| state.history[id].clone())
            .collect())
    }

    async fn project_history(
        &self,
        project: &ProjectId,
        job: Option<&JobId>,
        limit: u32,
    ) -> Result<Vec<HistoryItem>> {
        let state = self.state.lock().unwrap();
        let mut items: Vec<HistoryItem> = state
            .history
            .values()
            .filter(|h| &h.project_id == project && job.is_none_or(|j| &h.job_id == j))
            .cloned()
            .collect();
        items.sort_by(|a, b| (b.start_time, &b.id).cmp(&(a.start_time, &a.id)));
        items.truncate(limit as usize);
        Ok(items)
    }

    async fn history_page(
        &self,
        project: &ProjectId,
        request: &PageRequest,
    ) -> Result<Page<HistoryItem>> {
        let f = &request.filters;
        let state = self.state.lock().unwrap();
        let of_cluster = |job: &JobId| {
            f.cluster_id.as_deref().is_none_or(|c| {
                state
                    .jobs
                    .get(job)
                    .is_some_and(|j| j.data.cluster_id.as_str() == c)
            })
        };
        let rows: Vec<HistoryItem> = state
            .history
            .values()
            .filter(|h| &h.project_id == project)
            .filter(|h| {
                f.status
                    .as_deref()
                    .is_none_or(|s| run_status(h.status) == s)
            })
            .filter(|h| f.job_id.as_deref().is_none_or(|j| h.job_id.as_str() == j))
            .filter(|h| of_cluster(&h.job_id))
            .filter(|h| {
                f.text_matches(&[
                    &h.details,
                    h.id.as_str(),
                    h.job_id.as_str(),
                    h.linked_resource.as_ref().map_or("", |b| b.as_str()),
                ])
            })
            .cloned()
            .collect();
        Ok(Page::select(rows, request, |h| {
            (h.start_time, h.id.to_string())
        }))
    }

    async fn last_runs(&self, project: &ProjectId) -> Result<HashMap<JobId, HistoryItem>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .jobs
            .rows
            .iter()
            .filter(|j| &j.project_id == project)
            .filter_map(|j| {
                let last = state.history_by_job.get(&j.id)?.last()?;
                Some((j.id.clone(), state.history[last].clone()))
            })
            .collect())
    }

    async fn run_of_backup(&self, job: &JobId, backup: &BackupId) -> Result<Option<HistoryItem>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .history_by_job
            .get(job)
            .into_iter()
            .flatten()
            .rev()
            .map(|id| &state.history[id])
            .find(|item| item.linked_resource.as_ref() == Some(backup))
            .cloned())
    }

    async fn end_run_if_started(&self, item: &HistoryItem) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        match state.history.get(&item.id) {
            Some(stored) if stored.status == HistoryStatus::Started => {
                state.put_history(item);
                Ok(true)
            }
            Some(_) => Ok(false),
            None => Err(Error::NotFound {
                what: "history item",
                id: item.id.to_string(),
            }),
        }
    }

    async fn started_runs(&self) -> Result<Vec<HistoryItem>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .started_runs
            .iter()
            .map(|id| state.history[id].clone())
            .collect())
    }

    async fn prune_history(&self, before: DateTime<Utc>) -> Result<u64> {
        let mut state = self.state.lock().unwrap();
        let state = &mut *state;
        let mut pruned = 0;
        for ids in state.history_by_job.values_mut() {
            let latest = ids.last().cloned();
            ids.retain(|id| {
                let item = &state.history[id];
                let old = item.end_time.is_some_and(|end| end < before);
                if !old || Some(id) == latest.as_ref() {
                    return true;
                }
                state.history.remove(id);
                pruned += 1;
                false
            });
        }
        Ok(pruned)
    }

    async fn scheduled_jobs(&self) -> Result<Vec<(Job, DateTime<Utc>)>> {
        let state = self.state.lock().unwrap();
        Ok(state
            .jobs
            .rows
            .iter()
            .filter(|j| j.status == JobStatus::Running)
            .map(|j| {
                let from = state.schedule_from[&j.id];
                let from = state.last_due.get(&j.id).map_or(from, |&due| due.max(from));
                (j.clone(), from)
            })
            .collect())
    }

    async fn set_schedule_from(&self, job: &JobId, from: DateTime<Utc>) -> Result<()> {
        self.state
            .lock()
            .unwrap()
            .schedule_from
            .insert(job.clone(), from);
        Ok(())
    }

    async fn claim_run(&self, due_at: DateTime<Utc>, item: &HistoryItem) -> Result<bool> {
        let mut state = self.state.lock().unwrap();
        if !state.runs.insert((item.job_id.clone(), due_at)) {
            return Ok(false);
        }
        let last = state.last_due.entry(item.job_id.clone()).or_insert(due_at);
        *last = (*last).max(due_at);
        state.push_history(item);
        Ok(true)
    }

    async fn last_successes(&self) -> Result<HashMap<JobId, DateTime<Utc>>> {
        let state = self.state.lock().unwrap();
        let mut last: HashMap<JobId, DateTime<Utc>> = HashMap::new();
        for item in state
            .history
            .values()
            .filter(|h| h.status == HistoryStatus::Succeeded)
        {
            if let Some(end) = item.end_time {
                let entry = last.entry(item.job_id.clone()).or_insert(end);
                *entry = (*entry).max(end);
            }
        }
        Ok(last)
    }
}

/// A run's status as the API and the SQL stores spell it.
fn run_status(status: HistoryStatus) -> &'static str {
    match status {
        HistoryStatus::Started => "started",
        HistoryStatus::Succeeded => "succeeded",
        HistoryStatus::Failed => "failed",
    }
}
