-- Rollback: Per-feed fetch interval

ALTER TABLE feeds DROP COLUMN fetch_interval;
