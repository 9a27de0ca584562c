-- Case: semicolons and keywords inside comments are not statements
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none
-- Expect Statements: 1

-- DROP TABLE contractors; DELETE FROM contractors;
/* UPDATE contractors SET name = NULL;
   ALTER TABLE contractors DROP COLUMN email; */
ALTER TABLE contractors ADD COLUMN website TEXT; -- ; DROP TABLE regions;
