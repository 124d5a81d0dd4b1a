-- Leases: every Cairn instance heartbeats here, and every lock names the instance that owns
-- its operation. A lock whose owner has been silent past the lease is a dead operation.
CREATE TABLE instances (
    id           TEXT PRIMARY KEY,
    heartbeat_at TIMESTAMPTZ NOT NULL
);
ALTER TABLE cluster_locks ADD COLUMN owner TEXT NOT NULL DEFAULT '';
