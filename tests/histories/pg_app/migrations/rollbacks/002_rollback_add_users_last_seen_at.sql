-- Rollback: Add users.last_seen_at

ALTER TABLE users DROP COLUMN last_seen_at;
