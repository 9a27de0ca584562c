-- Case: a rebuild that changes a foreign key changes a relationship: Category 3
-- Dialect: sqlite
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: no
-- Expect Findings: none

CREATE TABLE contractor_notes_new (
  id INTEGER PRIMARY KEY,
  contractor_id INTEGER NOT NULL REFERENCES contractors(id),
  note TEXT
);
INSERT INTO contractor_notes_new SELECT id, contractor_id, note FROM contractor_notes;
DROP TABLE contractor_notes;
ALTER TABLE contractor_notes_new RENAME TO contractor_notes;
