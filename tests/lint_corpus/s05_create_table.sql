-- Case: CREATE TABLE is Category 1
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

CREATE TABLE partner_tiers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  partner_id INTEGER REFERENCES strategic_partners(id)
);
