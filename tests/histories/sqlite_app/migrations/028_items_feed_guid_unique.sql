-- Migration: One item per feed and guid
-- Date: 2023-07-09
-- Description: The fetcher relied on a lookup; the partial unique index makes duplicates
--              impossible (items without a guid are exempt).
-- Risk Level: MEDIUM (new unique constraint on existing rows)

CREATE UNIQUE INDEX items_feed_guid ON items(feed_id, guid) WHERE guid <> '';
