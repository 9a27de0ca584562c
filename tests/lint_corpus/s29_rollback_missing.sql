-- Case: Category 2 without a rollback script: error
-- Dialect: sqlite
-- Risk Level: MEDIUM
-- Rollback: no
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: rollback-missing

ALTER TABLE contractors RENAME COLUMN phone TO phone_number;
