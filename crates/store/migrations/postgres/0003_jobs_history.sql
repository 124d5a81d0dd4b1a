-- Scheduled backup jobs and the history of their runs. A scheduled run will be claimed by
-- inserting (job_id, due_at) into job_runs: the unique key makes every due run fire once,
-- whatever the number of Cairn instances.
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    project_id       TEXT NOT NULL REFERENCES projects (id),
    description      TEXT NOT NULL,
    schedule         TEXT NOT NULL,
    status           TEXT NOT NULL,
    job_type         TEXT NOT NULL,
    cluster_id       TEXT NOT NULL REFERENCES clusters (id),
    label            TEXT NOT NULL,
    max_backup_count BIGINT NOT NULL,
    created          TIMESTAMPTZ NOT NULL
);
CREATE INDEX jobs_by_project ON jobs (project_id, created);

CREATE TABLE job_history (
    id              TEXT PRIMARY KEY,
    job_id          TEXT NOT NULL REFERENCES jobs (id),
    organization_id TEXT NOT NULL,
    project_id      TEXT NOT NULL,
    status          TEXT NOT NULL,
    details         TEXT NOT NULL,
    linked_resource TEXT,
    start_time      TIMESTAMPTZ NOT NULL,
    end_time        TIMESTAMPTZ
);
CREATE INDEX job_history_by_job ON job_history (job_id, start_time);

CREATE TABLE job_runs (
    job_id     TEXT NOT NULL REFERENCES jobs (id),
    due_at     TIMESTAMPTZ NOT NULL,
    history_id TEXT NOT NULL REFERENCES job_history (id),
    PRIMARY KEY (job_id, due_at)
);

CREATE INDEX backups_by_job ON backups (linked_resource);
