-- Case: widening a varchar is Category 1
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractors ALTER COLUMN company_name TYPE VARCHAR(200);
