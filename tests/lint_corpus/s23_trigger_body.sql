-- Case: a trigger body's UPDATE is not a top-level UPDATE; the trigger on an existing table is Category 2
-- Dialect: sqlite
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: none
-- Expect Statements: 2

CREATE TRIGGER contractors_touch AFTER UPDATE ON contractors
BEGIN
  UPDATE contractors SET created_at = created_at WHERE id = NEW.id;
  SELECT CASE WHEN NEW.email = '' THEN RAISE(ABORT, 'empty email; refused') END;
END;
