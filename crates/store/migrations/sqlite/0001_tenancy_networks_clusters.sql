-- Organizations, projects, networks and clusters: the resources the console lists first.
CREATE TABLE organizations (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    created TEXT NOT NULL
);

CREATE TABLE projects (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    name            TEXT NOT NULL,
    created         TEXT NOT NULL
);
CREATE INDEX projects_by_organization ON projects (organization_id, created);

CREATE TABLE networks (
    id            TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL REFERENCES projects (id),
    provider      TEXT NOT NULL,
    region        TEXT NOT NULL,
    description   TEXT NOT NULL,
    public_access BOOLEAN NOT NULL,
    cidr_block    TEXT,
    status        TEXT NOT NULL,
    created       TEXT NOT NULL
);
CREATE INDEX networks_by_project ON networks (project_id, created);

CREATE TABLE clusters (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL REFERENCES organizations (id),
    project_id         TEXT NOT NULL REFERENCES projects (id),
    network_id         TEXT NOT NULL REFERENCES networks (id),
    description        TEXT NOT NULL,
    provider           TEXT NOT NULL,
    region             TEXT NOT NULL,
    topology           TEXT NOT NULL,
    instance_type      TEXT NOT NULL,
    disk_size_gb       BIGINT NOT NULL,
    disk_type          TEXT NOT NULL,
    server_version     TEXT NOT NULL,
    server_version_tag TEXT NOT NULL,
    projection_level   TEXT NOT NULL,
    status             TEXT NOT NULL,
    health             TEXT NOT NULL,
    protected          BOOLEAN NOT NULL,
    created            TEXT NOT NULL,
    source_backup_id   TEXT,
    addresses          TEXT NOT NULL
);
CREATE INDEX clusters_by_project ON clusters (project_id, created);
