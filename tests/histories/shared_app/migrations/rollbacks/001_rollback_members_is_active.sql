-- Rollback: members.is_active

ALTER TABLE members DROP COLUMN is_active;
