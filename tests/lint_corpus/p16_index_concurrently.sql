-- Case: CREATE INDEX CONCURRENTLY alone in its migration
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

CREATE INDEX CONCURRENTLY idx_contractors_phone ON contractors (phone);
