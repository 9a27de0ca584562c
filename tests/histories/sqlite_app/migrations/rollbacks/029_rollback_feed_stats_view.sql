-- Rollback: feed_stats view

DROP VIEW feed_stats;
