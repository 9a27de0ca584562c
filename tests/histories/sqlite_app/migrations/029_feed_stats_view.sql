-- Migration: feed_stats view
-- Date: 2023-08-20
-- Description: Counts per feed for the statistics page.
-- Risk Level: LOW (new view)

CREATE VIEW feed_stats AS
SELECT f.id AS feed_id,
       f.name,
       COUNT(i.id) AS items,
       SUM(CASE WHEN i.read = 0 THEN 1 ELSE 0 END) AS unread,
       MAX(i.published) AS latest
  FROM feeds f
  LEFT JOIN items i ON i.feed_id = f.id
 GROUP BY f.id, f.name;
