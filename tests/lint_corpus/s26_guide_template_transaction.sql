-- Case: the guide's template: BEGIN/COMMIT ignored, SELECT and PRAGMA read-only
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none
-- Expect Statements: 1 1 1 1

BEGIN TRANSACTION;
ALTER TABLE contractors ADD COLUMN team_size INTEGER;
CREATE INDEX idx_contractors_team_size ON contractors(team_size);
SELECT COUNT(*) AS contractor_count FROM contractors;
PRAGMA table_info(contractors);
COMMIT;
