-- Case: a plain CREATE INDEX on an existing table: suggest CONCURRENTLY
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: index-not-concurrent

CREATE INDEX idx_contractors_phone ON contractors (phone);
