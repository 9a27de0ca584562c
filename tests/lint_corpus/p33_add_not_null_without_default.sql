-- Case: ADD COLUMN NOT NULL without a default: Category 2
-- Dialect: postgresql
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractors ADD COLUMN tenant_id INTEGER NOT NULL;
