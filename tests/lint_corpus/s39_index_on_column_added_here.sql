-- Case: an index on a column added earlier in the same migration is fine
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractors ADD COLUMN current_stage TEXT DEFAULT 'verification';
CREATE INDEX idx_contractors_stage ON contractors(current_stage);
