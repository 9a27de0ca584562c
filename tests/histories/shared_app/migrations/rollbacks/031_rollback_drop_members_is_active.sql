-- Rollback: Drop members.is_active
-- Description: Every member had TRUE (the default; nothing ever wrote FALSE).

ALTER TABLE members ADD COLUMN is_active BOOLEAN NOT NULL DEFAULT TRUE;
