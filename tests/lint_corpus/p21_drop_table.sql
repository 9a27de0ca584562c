-- Case: DROP TABLE ... CASCADE: Category 2, destructive
-- Dialect: postgresql
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: yes
-- Expect Findings: none

DROP TABLE contractor_notes CASCADE;
