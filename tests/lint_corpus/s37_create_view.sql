-- Case: CREATE VIEW is Category 1
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

CREATE VIEW active_partners AS SELECT id, company_name FROM strategic_partners WHERE is_active;
