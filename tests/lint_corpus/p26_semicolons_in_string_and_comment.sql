-- Case: E-strings, comments and COMMENT ON text hide no statement
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none
-- Expect Statements: 1 1

COMMENT ON TABLE contractors IS 'people; DROP TABLE contractors; we work with';
/* DELETE FROM contractors; */ ALTER TABLE contractors ADD COLUMN motto TEXT DEFAULT E'it\'s; fine';
