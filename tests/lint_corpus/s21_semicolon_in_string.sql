-- Case: a semicolon and keywords inside a string literal are not statements
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none
-- Expect Statements: 1

ALTER TABLE contractors ADD COLUMN motto TEXT DEFAULT 'ship it; DROP TABLE contractors; -- not sql';
