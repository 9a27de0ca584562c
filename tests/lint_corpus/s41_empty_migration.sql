-- Case: a migration with nothing to run
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: empty

BEGIN TRANSACTION;
-- nothing yet
COMMIT;
