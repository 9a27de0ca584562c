-- Migration: feeds.item_count, kept by triggers
-- Date: 2021-08-29
-- Description: The sidebar shows each feed's item count. Backfilled from items; two triggers
--              keep it current.
-- Risk Level: HIGH (data backfill)

ALTER TABLE feeds ADD COLUMN item_count INTEGER NOT NULL DEFAULT 0;

UPDATE feeds SET item_count = (SELECT COUNT(*) FROM items WHERE items.feed_id = feeds.id);

CREATE TRIGGER items_count_insert AFTER INSERT ON items
BEGIN
  UPDATE feeds SET item_count = item_count + 1 WHERE id = NEW.feed_id;
END;

CREATE TRIGGER items_count_delete AFTER DELETE ON items
BEGIN
  UPDATE feeds SET item_count = item_count - 1 WHERE id = OLD.feed_id;
END;
