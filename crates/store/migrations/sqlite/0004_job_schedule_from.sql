-- When a job's schedule counts from: its creation, or its last resume (so resuming never fires
-- the runs it slept through). The last claimed run counts too; see Store::scheduled_jobs.
ALTER TABLE jobs ADD COLUMN schedule_from TEXT;
UPDATE jobs SET schedule_from = created;
CREATE INDEX jobs_running ON jobs (status);
