-- Case: a trigger on a table created in the same migration is Category 1
-- Dialect: sqlite
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none
-- Expect Statements: 1 1

CREATE TABLE audit_log (id INTEGER PRIMARY KEY, happened_at DATETIME, what TEXT);
CREATE TRIGGER audit_log_stamp AFTER INSERT ON audit_log
BEGIN
  UPDATE audit_log SET happened_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
