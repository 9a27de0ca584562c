-- Case: CREATE TABLE with foreign keys to existing tables: Category 1
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

CREATE TABLE partner_focus_areas (
  partner_id INTEGER NOT NULL REFERENCES strategic_partners (id),
  region_id INTEGER NOT NULL,
  PRIMARY KEY (partner_id, region_id),
  CONSTRAINT pfa_region_fk FOREIGN KEY (region_id) REFERENCES regions (id)
);
