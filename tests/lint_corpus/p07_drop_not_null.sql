-- Case: DROP NOT NULL relaxes a rule: Category 1
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractors ALTER COLUMN name DROP NOT NULL;
