-- Rollback: unread_items view

DROP VIEW unread_items;
