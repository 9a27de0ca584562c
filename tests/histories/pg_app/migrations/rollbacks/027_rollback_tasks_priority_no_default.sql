-- Rollback: No default priority

ALTER TABLE tasks ALTER COLUMN priority SET DEFAULT 3;
