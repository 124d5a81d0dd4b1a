-- The cluster lock: the cluster id is the key, so the first insert wins and the rest see
-- who holds it (domain.md §5). Backups keep their rendered label and the snapshot's facts.
CREATE TABLE cluster_locks (
    cluster_id  TEXT PRIMARY KEY REFERENCES clusters (id),
    kind        TEXT NOT NULL,
    holder_id   TEXT NOT NULL,
    job_id      TEXT,
    acquired_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE backups (
    id                         TEXT PRIMARY KEY,
    project_id                 TEXT NOT NULL REFERENCES projects (id),
    description                TEXT NOT NULL,
    source_cluster_id          TEXT NOT NULL REFERENCES clusters (id),
    source_cluster_description TEXT NOT NULL,
    provider                   TEXT NOT NULL,
    region                     TEXT NOT NULL,
    server_version             TEXT NOT NULL,
    server_version_tag         TEXT NOT NULL,
    size_gb                    BIGINT NOT NULL,
    available_node_count       BIGINT NOT NULL,
    status                     TEXT NOT NULL,
    created                    TIMESTAMPTZ NOT NULL,
    linked_resource            TEXT,
    bytes_stored               BIGINT,
    bytes_new                  BIGINT,
    file_count                 BIGINT,
    checksum                   TEXT,
    failure_reason             TEXT
);
CREATE INDEX backups_by_project ON backups (project_id, created);
CREATE INDEX backups_by_cluster ON backups (source_cluster_id);
CREATE INDEX backups_by_status ON backups (status);
