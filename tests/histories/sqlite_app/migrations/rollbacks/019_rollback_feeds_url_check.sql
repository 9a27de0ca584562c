-- Rollback: Feed URLs are http(s)

DROP VIEW unread_items;
DROP TRIGGER items_count_insert;
DROP TRIGGER items_count_delete;

CREATE TABLE feeds_old (
  id INTEGER PRIMARY KEY,
  url TEXT NOT NULL UNIQUE,
  name TEXT,
  last_fetched TEXT,
  item_count INTEGER NOT NULL DEFAULT 0
);

INSERT INTO feeds_old (id, url, name, last_fetched, item_count)
SELECT id, url, name, last_fetched, item_count FROM feeds;

DROP TABLE feeds;

ALTER TABLE feeds_old RENAME TO feeds;

CREATE TRIGGER items_count_insert AFTER INSERT ON items
BEGIN
  UPDATE feeds SET item_count = item_count + 1 WHERE id = NEW.feed_id;
END;

CREATE TRIGGER items_count_delete AFTER DELETE ON items
BEGIN
  UPDATE feeds SET item_count = item_count - 1 WHERE id = OLD.feed_id;
END;

CREATE VIEW unread_items AS
SELECT i.id, i.title, i.link, i.published, f.name AS feed_title
  FROM items i
  JOIN feeds f ON f.id = i.feed_id
 WHERE i.read = 0;
