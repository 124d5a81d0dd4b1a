-- When a backup ended, what the cluster held at backup time (restore tests compare a restore
-- with it), and the last verification of every chunk (JSON: at, durationMs, ok, detail).
ALTER TABLE backups ADD COLUMN finished TIMESTAMPTZ;
ALTER TABLE backups ADD COLUMN event_count BIGINT;
ALTER TABLE backups ADD COLUMN last_position BIGINT;
ALTER TABLE backups ADD COLUMN verification TEXT;
