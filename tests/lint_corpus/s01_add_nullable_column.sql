-- Case: ADD COLUMN nullable is Category 1
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractors ADD COLUMN website TEXT;
