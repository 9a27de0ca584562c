-- Case: an index naming a column that does not exist
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: unknown-name

CREATE INDEX idx_contractors_nope ON contractors(nope);
