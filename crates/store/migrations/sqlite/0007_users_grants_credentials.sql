-- Who may sign in, what role they have where, and their credentials. Secrets are never
-- stored: a credential row keeps the BLAKE3 hash of its secret.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created       TEXT NOT NULL
);

-- project_id '' means every project of the organization.
CREATE TABLE grants (
    user_id         TEXT NOT NULL REFERENCES users (id),
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    project_id      TEXT NOT NULL,
    role            TEXT NOT NULL,
    PRIMARY KEY (user_id, organization_id, project_id)
);

CREATE TABLE credentials (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    hash        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    parent_id   TEXT,
    created     TEXT NOT NULL,
    expires     TEXT,
    last_used   TEXT,
    revoked     TEXT
);
CREATE INDEX credentials_by_user ON credentials (user_id, kind);
CREATE INDEX credentials_by_parent ON credentials (parent_id);
