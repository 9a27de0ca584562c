-- Case: a plain UNIQUE index on an existing table: Category 2, suggest CONCURRENTLY
-- Dialect: postgresql
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: index-not-concurrent

CREATE UNIQUE INDEX contractors_phone_key ON contractors (phone);
