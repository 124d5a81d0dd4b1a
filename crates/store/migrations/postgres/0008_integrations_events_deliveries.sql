-- Integrations (where messages go; the sink's settings and secrets as JSON), events
-- (notifications and issues) and deliveries (the outbox, and the delivery log).
CREATE TABLE integrations (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    project_id      TEXT NOT NULL REFERENCES projects (id),
    description     TEXT NOT NULL,
    source          TEXT NOT NULL,
    sink            TEXT NOT NULL,
    created         TIMESTAMPTZ NOT NULL,
    updated         TIMESTAMPTZ NOT NULL,
    deleted         BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX integrations_by_project ON integrations (project_id, created);

CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    project_id      TEXT NOT NULL,
    kind            TEXT NOT NULL,
    category        TEXT NOT NULL,
    subject         TEXT NOT NULL,
    message         TEXT NOT NULL,
    resource_id     TEXT NOT NULL,
    status          TEXT,
    created         TIMESTAMPTZ NOT NULL,
    closed          TIMESTAMPTZ
);
CREATE INDEX events_by_project ON events (project_id, created);
-- One open issue per condition, however many instances review issues at once.
CREATE UNIQUE INDEX one_open_issue ON events (category, resource_id) WHERE status = 'open';

CREATE TABLE deliveries (
    id             TEXT PRIMARY KEY,
    integration_id TEXT NOT NULL,
    event_id       TEXT NOT NULL REFERENCES events (id),
    summary        TEXT NOT NULL,
    announces      TEXT,
    status         TEXT NOT NULL,
    attempts       BIGINT NOT NULL,
    next_attempt   TIMESTAMPTZ,
    last_error     TEXT,
    created        TIMESTAMPTZ NOT NULL,
    delivered      TIMESTAMPTZ
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt);
CREATE INDEX deliveries_by_integration ON deliveries (integration_id, created);
