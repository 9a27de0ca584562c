-- Case: a foreign key referencing a table that does not exist
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: unknown-name

CREATE TABLE partner_tiers (id INTEGER PRIMARY KEY, level_id INTEGER REFERENCES levels(id));
