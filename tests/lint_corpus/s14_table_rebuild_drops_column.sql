-- Case: a table rebuild that leaves a column out loses its data: destructive
-- Dialect: sqlite
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: yes
-- Expect Findings: none

CREATE TABLE contractor_notes_new (id INTEGER PRIMARY KEY, contractor_id INTEGER NOT NULL);
INSERT INTO contractor_notes_new (id, contractor_id) SELECT id, contractor_id FROM contractor_notes;
DROP TABLE contractor_notes;
ALTER TABLE contractor_notes_new RENAME TO contractor_notes;
