-- Case: narrowing a varchar is Category 2
-- Dialect: postgresql
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractors ALTER COLUMN company_name TYPE VARCHAR(50);
