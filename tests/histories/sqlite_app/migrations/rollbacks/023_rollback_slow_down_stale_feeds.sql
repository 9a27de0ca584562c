-- Rollback: Fetch stale feeds daily
-- Description: Every feed had the default (3600) before 023.

UPDATE feeds SET fetch_interval = 3600 WHERE fetch_interval = 86400;
