-- Case: DELETE: Category 3, destructive
-- Dialect: postgresql
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: yes
-- Expect Findings: none

DELETE FROM contractor_notes WHERE contractor_id NOT IN (SELECT id FROM contractors);
