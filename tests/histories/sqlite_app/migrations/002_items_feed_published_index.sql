-- Migration: Index items by feed and date
-- Date: 2021-03-20
-- Description: The river view lists a feed's items newest first. items_feed is a prefix of
--              the new index and goes.
-- Risk Level: LOW (indexes)

CREATE INDEX items_feed_published ON items(feed_id, published);
DROP INDEX items_feed;
