-- Case: a new FOREIGN KEY constraint on an existing table: Category 2
-- Dialect: postgresql
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractor_notes ADD CONSTRAINT notes_contractor_fk FOREIGN KEY (contractor_id) REFERENCES contractors (id);
