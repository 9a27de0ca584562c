-- Case: ADD COLUMN with a default is Category 1
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractors ADD COLUMN verification_status TEXT DEFAULT 'pending';
