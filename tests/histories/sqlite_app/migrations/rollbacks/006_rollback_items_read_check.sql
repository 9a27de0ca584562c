-- Rollback: items.read is a real boolean
-- Description: The same rebuild back to the previous definition.

CREATE TABLE items_old (
  id INTEGER PRIMARY KEY,
  feed_id INTEGER NOT NULL REFERENCES feeds(id),
  guid TEXT NOT NULL,
  title TEXT,
  link TEXT,
  published TEXT,
  read INTEGER DEFAULT 0,
  starred INTEGER NOT NULL DEFAULT 0
);

INSERT INTO items_old (id, feed_id, guid, title, link, published, read, starred)
SELECT id, feed_id, guid, title, link, published, read, starred FROM items;

DROP TABLE items;

ALTER TABLE items_old RENAME TO items;

CREATE INDEX items_feed_published ON items(feed_id, published);
