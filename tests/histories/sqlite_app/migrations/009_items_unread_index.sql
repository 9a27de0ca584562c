-- Migration: Partial index on unread items
-- Date: 2021-09-12
-- Description: Most items are read; the unread page only needs the others.
-- Risk Level: LOW (index)

CREATE INDEX items_unread ON items(feed_id) WHERE read = 0;
