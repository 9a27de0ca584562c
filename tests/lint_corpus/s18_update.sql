-- Case: UPDATE transforms existing data (old values lost): Category 3, destructive
-- Dialect: sqlite
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: yes
-- Expect Findings: none

UPDATE contractors SET services_offered = '[]' WHERE services_offered IS NULL;
