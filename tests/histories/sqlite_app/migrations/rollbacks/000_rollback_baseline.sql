-- Rollback: Baseline
-- Description: Drops every table, rows included: only for taking a scratch file back to empty.

DROP INDEX items_feed;
DROP TABLE subscriptions;
DROP TABLE items;
DROP TABLE feeds;
DROP TABLE users;
