-- Case: DROP TABLE is Category 2 and destructive
-- Dialect: sqlite
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: yes
-- Expect Findings: none

DROP TABLE contractor_notes;
