-- Case: a DO block that only reads and computes (PostgreSQL's PL/pgSQL parser reads it): Category 1
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

DO $$ BEGIN PERFORM 1; END $$;
