-- Case: dropping a known CHECK constraint relaxes a rule: Category 1
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE strategic_partners DROP CONSTRAINT partners_tier_check;
