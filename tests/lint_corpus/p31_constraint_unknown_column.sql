-- Case: a constraint naming a column that does not exist
-- Dialect: postgresql
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: unknown-name

ALTER TABLE contractors ADD CONSTRAINT contractors_fax_key UNIQUE (fax);
