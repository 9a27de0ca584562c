-- Rollback: Partial index on unread items

DROP INDEX items_unread;
