-- Case: ALTER TABLE IF EXISTS and DROP COLUMN IF EXISTS on names that are not there are quiet no-ops
-- Dialect: postgresql
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: yes
-- Expect Findings: none
-- Expect Statements: 1 1 2

ALTER TABLE IF EXISTS legacy_contractors ADD COLUMN x TEXT;
ALTER TABLE contractors DROP COLUMN IF EXISTS fax;
ALTER TABLE contractors DROP COLUMN IF EXISTS phone;
