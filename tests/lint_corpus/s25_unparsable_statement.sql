-- Case: a statement the parser cannot read is reported and counts as Category 3
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: no
-- Expect Findings: unparsable, risk-understated
-- Expect Statements: 1 3

ALTER TABLE contractors ADD COLUMN website TEXT;
FROBNICATE THE contractors TABLE PLEASE;
