-- Migration: unread_items view
-- Date: 2021-09-12
-- Description: What the "unread" page selects.
-- Risk Level: LOW (new view)

CREATE VIEW unread_items AS
SELECT i.id, i.title, i.link, i.published, f.title AS feed_title
  FROM items i
  JOIN feeds f ON f.id = i.feed_id
 WHERE i.read = 0;
