-- Deleted projects and organizations leave the lists but stay: deleted networks (readable by
-- id, as every deleted resource) still refer to their project.
ALTER TABLE projects ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE organizations ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE;
