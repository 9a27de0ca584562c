-- Case: CREATE INDEX is Category 1
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

CREATE INDEX idx_contractors_phone ON contractors(phone);
