-- Migration: Fetch stale feeds daily
-- Date: 2022-12-11
-- Description: Feeds not fetched since 2022 (or never) are polled once a day.
-- Risk Level: HIGH (data update)

UPDATE feeds
   SET fetch_interval = 86400
 WHERE last_fetched IS NULL OR last_fetched < '2022-01-01';
