-- Rollback: Index items by feed and date

CREATE INDEX items_feed ON items(feed_id);
DROP INDEX items_feed_published;
