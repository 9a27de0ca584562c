-- Case: set_config('lock_timeout', '0') also disables the timeout before a lock-heavy statement
-- Dialect: postgresql
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: lock-timeout-disabled
-- Expect Statements: 1 2

SELECT set_config('lock_timeout', '0', true);
ALTER TABLE contractors RENAME COLUMN phone TO phone_number;
