-- Case: changing a column's type is Category 2
-- Dialect: postgresql
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractors ALTER COLUMN phone TYPE BIGINT USING phone::bigint;
