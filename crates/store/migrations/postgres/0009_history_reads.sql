-- Reads of the job history that must not scan it: a project's latest runs, the run of a
-- backup, the runs still started (recovery).
CREATE INDEX job_history_by_project ON job_history (project_id, start_time);
CREATE INDEX job_history_by_backup ON job_history (linked_resource);
CREATE INDEX job_history_by_status ON job_history (status);
CREATE INDEX job_runs_by_history ON job_runs (history_id);
