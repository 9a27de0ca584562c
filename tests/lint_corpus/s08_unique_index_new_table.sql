-- Case: CREATE UNIQUE INDEX on a table created in the same migration is Category 1
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none
-- Expect Statements: 1 1

CREATE TABLE partner_tiers (id INTEGER PRIMARY KEY, slug TEXT NOT NULL);
CREATE UNIQUE INDEX idx_partner_tiers_slug ON partner_tiers(slug);
