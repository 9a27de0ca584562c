-- Case: INSERT ... SELECT moves data between tables: Category 3
-- Dialect: sqlite
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: no
-- Expect Findings: none
-- Expect Statements: 1 3

CREATE TABLE partner_regions (partner_id INTEGER NOT NULL, region_id INTEGER NOT NULL);
INSERT INTO partner_regions (partner_id, region_id) SELECT id, region_id FROM strategic_partners WHERE region_id IS NOT NULL;
