-- Case: INSERT OR REPLACE overwrites colliding rows: Category 3, destructive
-- Dialect: sqlite
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: yes
-- Expect Findings: none

INSERT OR REPLACE INTO regions (id, name) VALUES (1, 'Renamed');
