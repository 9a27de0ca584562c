-- Case: UPDATE that only fills a column added in the same migration loses nothing
-- Dialect: sqlite
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: no
-- Expect Findings: none
-- Expect Statements: 1 3

ALTER TABLE contractors ADD COLUMN email_domain TEXT;
UPDATE contractors SET email_domain = substr(email, instr(email, '@') + 1);
