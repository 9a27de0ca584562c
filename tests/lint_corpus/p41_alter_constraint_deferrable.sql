-- Case: ALTER CONSTRAINT ... DEFERRABLE (Lemmy's foreign keys): when the key is checked changes, no row: Category 1
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE contractors ALTER CONSTRAINT contractors_partner_fk DEFERRABLE INITIALLY DEFERRED;
