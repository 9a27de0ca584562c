-- Case: a routine and a trigger on an existing table change no existing row: Category 1 (was 2 before issue 7: over-classified)
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none
-- Expect Statements: 1 1

CREATE FUNCTION touch_created_at() RETURNS trigger AS $body$
BEGIN
  NEW.created_at := now(); RETURN NEW;
END;
$body$ LANGUAGE plpgsql;
CREATE TRIGGER contractors_touch BEFORE UPDATE ON contractors FOR EACH ROW EXECUTE FUNCTION touch_created_at();
