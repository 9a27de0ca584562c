-- Case: INSERT ... SELECT: Category 3
-- Dialect: postgresql
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: no
-- Expect Findings: none

INSERT INTO contractor_notes (contractor_id, note) SELECT id, 'migrated: ' || phone FROM contractors WHERE phone IS NOT NULL;
