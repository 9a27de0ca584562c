-- Case: a UNIQUE constraint on an existing table: Category 2
-- Dialect: postgresql
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractors ADD CONSTRAINT contractors_phone_key UNIQUE (phone);
