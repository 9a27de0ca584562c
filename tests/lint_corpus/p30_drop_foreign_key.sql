-- Case: dropping a foreign key changes a relationship: Category 3
-- Dialect: postgresql
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractors DROP CONSTRAINT contractors_partner_fk;
