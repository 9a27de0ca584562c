-- Migration: Publication time as Unix seconds
-- Date: 2023-11-12
-- Description: items.published (text) becomes items.published_at (integer seconds since the
--              epoch, UTC), converted by a table rebuild. The views, indexes and triggers on
--              items are dropped and recreated around it (the views now convert back).
-- Risk Level: HIGH (values converted, table rebuild)

DROP VIEW feed_stats;
DROP VIEW unread_items;

CREATE TABLE items_new (
  id INTEGER PRIMARY KEY,
  feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
  guid TEXT NOT NULL,
  title TEXT,
  link TEXT,
  published_at INTEGER,
  read INTEGER NOT NULL DEFAULT 0 CHECK (read IN (0, 1)),
  read_at TEXT
);

INSERT INTO items_new (id, feed_id, guid, title, link, published_at, read, read_at)
SELECT id, feed_id, guid, title, link, CAST(strftime('%s', published) AS INTEGER), read, read_at
  FROM items;

DROP TABLE items;

ALTER TABLE items_new RENAME TO items;

CREATE INDEX items_feed_published ON items(feed_id, published_at);
CREATE INDEX items_unread ON items(feed_id) WHERE read = 0;
CREATE INDEX items_title_lower ON items(lower(title));
CREATE UNIQUE INDEX items_feed_guid ON items(feed_id, guid) WHERE guid <> '';

CREATE TRIGGER items_count_insert AFTER INSERT ON items
BEGIN
  UPDATE feeds SET item_count = item_count + 1 WHERE id = NEW.feed_id;
END;

CREATE TRIGGER items_count_delete AFTER DELETE ON items
BEGIN
  UPDATE feeds SET item_count = item_count - 1 WHERE id = OLD.feed_id;
END;

CREATE TRIGGER items_read_at AFTER UPDATE OF read ON items
WHEN NEW.read = 1 AND NEW.read_at IS NULL
BEGIN
  UPDATE items SET read_at = strftime('%Y-%m-%d %H:%M:%S', 'now') WHERE id = NEW.id;
END;

CREATE VIEW unread_items AS
SELECT i.id, i.title, i.link, datetime(i.published_at, 'unixepoch') AS published, f.name AS feed_title
  FROM items i
  JOIN feeds f ON f.id = i.feed_id
 WHERE i.read = 0;

CREATE VIEW feed_stats AS
SELECT f.id AS feed_id,
       f.name,
       COUNT(i.id) AS items,
       SUM(CASE WHEN i.read = 0 THEN 1 ELSE 0 END) AS unread,
       datetime(MAX(i.published_at), 'unixepoch') AS latest
  FROM feeds f
  LEFT JOIN items i ON i.feed_id = f.id
 GROUP BY f.id, f.name;
