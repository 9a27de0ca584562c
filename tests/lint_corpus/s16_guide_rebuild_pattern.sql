-- Case: the guide's rollback pattern (backup copy, drop, recreate, copy back) dropping a column
-- Dialect: sqlite
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: yes
-- Expect Findings: none

BEGIN TRANSACTION;
CREATE TABLE contractors_backup AS SELECT * FROM contractors;
DROP TABLE contractors;
CREATE TABLE contractors (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT UNIQUE NOT NULL,
  phone TEXT,
  company_name VARCHAR(100),
  assigned_partner_id INTEGER REFERENCES strategic_partners(id),
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO contractors (id, name, email, phone, company_name, assigned_partner_id, created_at)
SELECT id, name, email, phone, company_name, assigned_partner_id, created_at FROM contractors_backup;
DROP TABLE contractors_backup;
SELECT COUNT(*) FROM contractors;
COMMIT;
