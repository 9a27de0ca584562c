-- Case: a dollar-quoted body's semicolons and UPDATE are not statements
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none
-- Expect Statements: 1

CREATE FUNCTION touch_created_at() RETURNS trigger AS $$
BEGIN
  UPDATE contractors SET created_at = now() WHERE id = NEW.id; -- not a statement of the migration
  NEW.created_at := now();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
