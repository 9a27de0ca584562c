-- Case: a trigger body's UPDATE is not a top-level UPDATE; a trigger changes no existing row: Category 1 (was 2 before issue 7)
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none
-- Expect Statements: 1

CREATE TRIGGER contractors_touch AFTER UPDATE ON contractors
BEGIN
  UPDATE contractors SET created_at = created_at WHERE id = NEW.id;
  SELECT CASE WHEN NEW.email = '' THEN RAISE(ABORT, 'empty email; refused') END;
END;
