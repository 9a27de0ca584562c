-- Case: a rebuild that never copies the rows back loses them all: destructive
-- Dialect: sqlite
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: yes
-- Expect Findings: none

DROP TABLE contractor_notes;
CREATE TABLE contractor_notes (id INTEGER PRIMARY KEY, contractor_id INTEGER NOT NULL, note TEXT);
