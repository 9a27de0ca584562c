-- Case: a view made here is a name INSERT and an INSTEAD OF trigger may use; IF EXISTS on missing names is quiet
-- Dialect: sqlite
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: none
-- Expect Statements: 1 1 1 2 1

CREATE VIEW partner_names AS SELECT id, company_name FROM strategic_partners;
CREATE TRIGGER partner_names_insert INSTEAD OF INSERT ON partner_names
BEGIN
  INSERT INTO strategic_partners (company_name) VALUES (NEW.company_name);
END;
INSERT INTO partner_names (company_name) VALUES ('Acme; Inc');
DROP VIEW partner_names;
DROP TABLE IF EXISTS partner_names_old;
