-- Rollback: One item per feed and guid

DROP INDEX items_feed_guid;
