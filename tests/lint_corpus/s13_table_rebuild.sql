-- Case: SQLite table rebuild (create new, copy, drop, rename) keeping every column: Category 2
-- Dialect: sqlite
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: none
-- Expect Statements: 1 2 2 2 2 1

PRAGMA foreign_keys = OFF;
BEGIN TRANSACTION;
CREATE TABLE contractor_notes_new (
  id INTEGER PRIMARY KEY,
  contractor_id INTEGER NOT NULL,
  note TEXT NOT NULL DEFAULT ''
);
INSERT INTO contractor_notes_new (id, contractor_id, note)
  SELECT id, contractor_id, COALESCE(note, '') FROM contractor_notes;
DROP TABLE contractor_notes;
ALTER TABLE contractor_notes_new RENAME TO contractor_notes;
COMMIT;
PRAGMA foreign_keys = ON;
