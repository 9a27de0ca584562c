-- Case: an index on a column renamed away earlier in the migration names a missing column
-- Dialect: sqlite
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: unknown-name

ALTER TABLE contractors RENAME COLUMN phone TO phone_number;
CREATE INDEX idx_contractors_phone ON contractors(phone);
