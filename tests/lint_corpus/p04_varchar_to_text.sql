-- Case: varchar to text widens: Category 1
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE strategic_partners ALTER COLUMN tier SET DATA TYPE TEXT;
