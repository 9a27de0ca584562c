-- Case: a trigger (from a dollar-quoted function) on an existing table is Category 2
-- Dialect: postgresql
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: none
-- Expect Statements: 1 2

CREATE FUNCTION touch_created_at() RETURNS trigger AS $body$
BEGIN
  NEW.created_at := now(); RETURN NEW;
END;
$body$ LANGUAGE plpgsql;
CREATE TRIGGER contractors_touch BEFORE UPDATE ON contractors FOR EACH ROW EXECUTE FUNCTION touch_created_at();
