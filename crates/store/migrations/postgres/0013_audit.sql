-- The audit log: one row per change someone asked for, appended and never changed. Where it
-- happened: a project, a whole organization (no project) or the site (neither). The outcome
-- is 'ok' or 'refused' (then error_kind and error_message say why). No foreign keys: the
-- log outlives what it names.
CREATE TABLE audit (
    id              TEXT PRIMARY KEY,
    at              TIMESTAMPTZ NOT NULL,
    organization_id TEXT,
    project_id      TEXT,
    actor_kind      TEXT NOT NULL,
    actor_id        TEXT NOT NULL,
    actor_name      TEXT NOT NULL,
    actor_email     TEXT,
    action          TEXT NOT NULL,
    resource_kind   TEXT NOT NULL,
    resource_id     TEXT NOT NULL,
    summary         TEXT NOT NULL,
    address         TEXT,
    outcome         TEXT NOT NULL,
    error_kind      TEXT,
    error_message   TEXT
);
CREATE INDEX audit_by_project ON audit (project_id, at, id);
CREATE INDEX audit_by_time ON audit (at, id);

-- Who took a backup: a person's email, or 'job <description>'; NULL for older backups.
ALTER TABLE backups ADD COLUMN created_by TEXT;
