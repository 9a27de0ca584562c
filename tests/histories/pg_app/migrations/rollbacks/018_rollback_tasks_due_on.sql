-- Rollback: Due dates; default priority

ALTER TABLE tasks ALTER COLUMN priority DROP DEFAULT;
ALTER TABLE tasks DROP COLUMN due_on;
