-- Case: DROP COLUMN is Category 2 and destructive
-- Dialect: sqlite
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: yes
-- Expect Findings: none

ALTER TABLE contractors DROP COLUMN phone;
