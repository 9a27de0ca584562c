-- Case: INSERT ... VALUES adds rows, touching none: Category 1
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

INSERT INTO regions (id, name) VALUES (10, 'North; East');
