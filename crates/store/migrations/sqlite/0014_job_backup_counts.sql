-- The backups page counts each job's backups ("<job> - N backups - M available") on every
-- render. This index holds every column that count reads, so it is read from the index alone
-- instead of visiting each of the project's backups (a 10 000-backup project: 5 ms -> 2 ms in
-- SQLite).
CREATE INDEX backups_job_counts ON backups (project_id, linked_resource, status, created)
    WHERE linked_resource IS NOT NULL;
