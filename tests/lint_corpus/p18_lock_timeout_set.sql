-- Case: a lock-heavy statement under the migration's own lock_timeout
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

SET LOCAL lock_timeout = '2s';
ALTER TABLE contractors ADD COLUMN website TEXT;
