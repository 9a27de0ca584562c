-- Case: SET NOT NULL on an existing column is Category 2
-- Dialect: postgresql
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractors ALTER COLUMN phone SET NOT NULL;
