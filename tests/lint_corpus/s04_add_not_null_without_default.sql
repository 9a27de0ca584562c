-- Case: ADD COLUMN NOT NULL without a default fails on a non-empty table: Category 2
-- Dialect: sqlite
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractors ADD COLUMN score INTEGER NOT NULL;
