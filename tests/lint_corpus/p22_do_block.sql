-- Case: an anonymous DO block cannot be classified: Category 3 with a warning
-- Dialect: postgresql
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: no
-- Expect Findings: unclassified

DO $$ BEGIN PERFORM 1; END $$;
