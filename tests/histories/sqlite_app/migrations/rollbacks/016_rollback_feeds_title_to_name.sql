-- Rollback: feeds.title is now feeds.name

DROP VIEW unread_items;

ALTER TABLE feeds RENAME COLUMN name TO title;

CREATE VIEW unread_items AS
SELECT i.id, i.title, i.link, i.published, f.title AS feed_title
  FROM items i
  JOIN feeds f ON f.id = i.feed_id
 WHERE i.read = 0;
