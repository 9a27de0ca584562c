-- Rollback: Stamp read_at when an item is marked read

DROP TRIGGER items_read_at;
