-- Case: a nullable ADD COLUMN with REFERENCES: every existing row holds NULL, which the foreign key accepts: Category 1 (was 2 before issue 7)
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractor_notes ADD COLUMN region_id INTEGER REFERENCES regions(id);
