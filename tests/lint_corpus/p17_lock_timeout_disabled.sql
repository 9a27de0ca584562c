-- Case: a lock-heavy statement after SET lock_timeout = 0
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: lock-timeout-disabled

SET lock_timeout = 0;
ALTER TABLE contractors ADD COLUMN website TEXT;
