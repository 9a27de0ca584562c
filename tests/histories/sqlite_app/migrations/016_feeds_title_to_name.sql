-- Migration: feeds.title is now feeds.name
-- Date: 2022-05-01
-- Description: Users rename feeds; "title" was the feed's own. The view is dropped and
--              recreated around the rename so its text stays as written.
-- Risk Level: MEDIUM (column rename)

DROP VIEW unread_items;

ALTER TABLE feeds RENAME COLUMN title TO name;

CREATE VIEW unread_items AS
SELECT i.id, i.title, i.link, i.published, f.name AS feed_title
  FROM items i
  JOIN feeds f ON f.id = i.feed_id
 WHERE i.read = 0;
