-- Case: no Risk Level in the header: warning
-- Dialect: sqlite
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: risk-missing

ALTER TABLE contractors ADD COLUMN website TEXT;
