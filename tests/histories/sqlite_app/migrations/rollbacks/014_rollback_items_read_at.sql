-- Rollback: items.read_at

ALTER TABLE items DROP COLUMN read_at;
