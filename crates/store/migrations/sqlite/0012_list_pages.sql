-- Lists read a page at a time by keyset: a project's rows after the last one shown, by
-- (created, id) either way. Each index leads with what a list is scoped by and ends with its
-- order, so a page is read from the index where the token points, never by skipping rows.
-- They replace the (project, created) indexes they extend.
DROP INDEX backups_by_project;
CREATE INDEX backups_page ON backups (project_id, created, id);

DROP INDEX jobs_by_project;
CREATE INDEX jobs_page ON jobs (project_id, created, id);

DROP INDEX job_history_by_project;
CREATE INDEX job_history_page ON job_history (project_id, start_time, id);
-- A job's runs (its page, its latest run, pruning) in the same order.
DROP INDEX job_history_by_job;
CREATE INDEX job_history_page_by_job ON job_history (job_id, start_time, id);

DROP INDEX events_by_project;
CREATE INDEX events_page ON events (project_id, created, id);
