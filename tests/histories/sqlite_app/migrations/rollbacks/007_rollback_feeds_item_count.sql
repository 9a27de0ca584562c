-- Rollback: feeds.item_count, kept by triggers

DROP TRIGGER items_count_delete;
DROP TRIGGER items_count_insert;
ALTER TABLE feeds DROP COLUMN item_count;
