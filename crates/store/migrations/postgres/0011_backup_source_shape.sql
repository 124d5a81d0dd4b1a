-- The source cluster's shape when the backup was taken (JSON: topology, instanceType,
-- projectionLevel), so a restore of it is offered the same; NULL for older backups.
ALTER TABLE backups ADD COLUMN source_shape TEXT;
