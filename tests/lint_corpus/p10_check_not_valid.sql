-- Case: a CHECK constraint NOT VALID leaves existing rows unchecked: Category 1
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractors ADD CONSTRAINT contractors_email_check CHECK (email LIKE '%@%') NOT VALID;
