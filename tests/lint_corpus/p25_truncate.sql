-- Case: TRUNCATE: Category 3, destructive
-- Dialect: postgresql
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: yes
-- Expect Findings: none

TRUNCATE contractor_notes;
