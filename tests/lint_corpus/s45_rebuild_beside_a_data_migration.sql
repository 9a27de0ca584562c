-- Case: a new table filled from a table that the same migration rebuilds is a data migration, not a rebuild's work table (it is kept)
-- Dialect: sqlite
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: no
-- Expect Findings: none
-- Expect Statements: 1 3 2 2 2 2

CREATE TABLE pinned_notes (note_id INTEGER PRIMARY KEY, contractor_id INTEGER NOT NULL);
INSERT INTO pinned_notes (note_id, contractor_id) SELECT id, contractor_id FROM contractor_notes WHERE note LIKE '!%';
CREATE TABLE contractor_notes_new (
  id INTEGER PRIMARY KEY,
  contractor_id INTEGER NOT NULL,
  note TEXT
);
INSERT INTO contractor_notes_new (id, contractor_id, note) SELECT id, contractor_id, note FROM contractor_notes;
DROP TABLE contractor_notes;
ALTER TABLE contractor_notes_new RENAME TO contractor_notes;
