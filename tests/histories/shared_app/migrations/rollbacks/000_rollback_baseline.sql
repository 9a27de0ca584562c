-- Rollback: Baseline
-- Description: Drops every table, rows included: only for taking a scratch database back to empty.

DROP TABLE loans;
DROP TABLE books;
DROP TABLE members;
