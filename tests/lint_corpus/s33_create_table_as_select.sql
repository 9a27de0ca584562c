-- Case: CREATE TABLE ... AS SELECT copies existing data: Category 3
-- Dialect: sqlite
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: no
-- Expect Findings: none

CREATE TABLE contractors_archive AS SELECT * FROM contractors WHERE created_at < '2024-01-01';
