-- Case: a foreign key referencing a column that does not exist
-- Dialect: postgresql
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: unknown-name

ALTER TABLE contractor_notes ADD CONSTRAINT notes_fk FOREIGN KEY (contractor_id) REFERENCES contractors (uuid);
