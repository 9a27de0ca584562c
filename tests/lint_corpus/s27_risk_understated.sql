-- Case: declared LOW, detected Category 2: error
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: yes
-- Expect Findings: risk-understated

ALTER TABLE contractors DROP COLUMN phone;
