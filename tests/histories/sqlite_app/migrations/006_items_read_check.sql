-- Migration: items.read is a real boolean
-- Date: 2021-07-18
-- Description: SQLite cannot add a CHECK or change a foreign key in place: the table is
--              rebuilt the documented way (create the new table, copy, drop, rename,
--              recreate its indexes). Also deletes a feed's items with the feed.
-- Risk Level: MEDIUM (table rebuild: new constraints)

CREATE TABLE items_new (
  id INTEGER PRIMARY KEY,
  feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
  guid TEXT NOT NULL,
  title TEXT,
  link TEXT,
  published TEXT,
  read INTEGER NOT NULL DEFAULT 0 CHECK (read IN (0, 1)),
  starred INTEGER NOT NULL DEFAULT 0
);

INSERT INTO items_new (id, feed_id, guid, title, link, published, read, starred)
SELECT id, feed_id, guid, title, link, published, read, starred FROM items;

DROP TABLE items;

ALTER TABLE items_new RENAME TO items;

CREATE INDEX items_feed_published ON items(feed_id, published);
