-- Migration: Per-feed fetch interval
-- Date: 2022-12-11
-- Description: Seconds between fetches, at least a minute; every feed starts at an hour.
-- Risk Level: LOW (column with a default)

ALTER TABLE feeds ADD COLUMN fetch_interval INTEGER NOT NULL DEFAULT 3600 CHECK (fetch_interval >= 60);
