-- Case: CREATE UNIQUE INDEX on an existing table: existing rows may violate it
-- Dialect: sqlite
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: none

CREATE UNIQUE INDEX idx_contractors_phone ON contractors(phone);
