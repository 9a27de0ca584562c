-- Case: RESET lock_timeout after disabling it gives back the runner's timeout: no finding
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

SET lock_timeout TO 0;
RESET lock_timeout;
ALTER TABLE contractors ADD COLUMN website TEXT;
