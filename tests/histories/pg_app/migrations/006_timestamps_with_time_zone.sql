-- Migration: Timestamps with time zone
-- Date: 2023-05-09
-- Description: Every stored time was UTC already (the servers run in UTC); say so in the type,
--              so clients in other zones read the right instant.
-- Risk Level: MEDIUM (column type changes)

ALTER TABLE accounts ALTER COLUMN created_at TYPE timestamptz USING created_at AT TIME ZONE 'UTC';
ALTER TABLE users    ALTER COLUMN created_at TYPE timestamptz USING created_at AT TIME ZONE 'UTC';
ALTER TABLE projects ALTER COLUMN created_at TYPE timestamptz USING created_at AT TIME ZONE 'UTC';
ALTER TABLE tasks
    ALTER COLUMN created_at TYPE timestamptz USING created_at AT TIME ZONE 'UTC',
    ALTER COLUMN updated_at TYPE timestamptz USING updated_at AT TIME ZONE 'UTC';
