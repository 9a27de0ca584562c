-- Case: repointing a foreign key changes a relationship: Category 3
-- Dialect: postgresql
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: no
-- Expect Findings: none

ALTER TABLE strategic_partners DROP CONSTRAINT partners_region_fk;
ALTER TABLE strategic_partners ADD CONSTRAINT partners_region_fk FOREIGN KEY (region_id) REFERENCES contractors (id);
