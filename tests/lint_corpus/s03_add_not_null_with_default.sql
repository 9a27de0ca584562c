-- Case: ADD COLUMN NOT NULL with a default is Category 1
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractors ADD COLUMN score INTEGER NOT NULL DEFAULT 0;
