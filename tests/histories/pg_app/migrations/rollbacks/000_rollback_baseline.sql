-- Rollback: Baseline
-- Description: Drops every baseline table, rows included. Only for taking a scratch database
--              back to empty.

DROP TABLE tasks;
DROP TABLE projects;
DROP TABLE users;
DROP TABLE accounts;
