-- Rollback: loans.status

ALTER TABLE loans DROP COLUMN status;
