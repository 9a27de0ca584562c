-- Case: ADD COLUMN with REFERENCES adds a foreign key to an existing table: Category 2
-- Dialect: sqlite
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractor_notes ADD COLUMN region_id INTEGER REFERENCES regions(id);
