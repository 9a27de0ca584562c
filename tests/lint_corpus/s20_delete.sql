-- Case: DELETE is Category 3 and destructive
-- Dialect: sqlite
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: yes
-- Expect Findings: none

DELETE FROM contractor_notes WHERE note IS NULL;
