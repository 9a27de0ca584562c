-- Case: RENAME of a table is Category 2
-- Dialect: sqlite
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractor_notes RENAME TO notes;
