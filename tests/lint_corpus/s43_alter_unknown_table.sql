-- Case: ALTER TABLE on a table that does not exist: an unknown-name error, not a higher category
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: no
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: unknown-name
-- Expect Statements: 1 1

CREATE TABLE audit_log (id INTEGER PRIMARY KEY, what TEXT);
ALTER TABLE no_such_table ADD COLUMN x TEXT;
