-- Migration: Audit log
-- Date: 2024-03-03
-- Description: Staff actions, written by the application.
-- Risk Level: LOW (new table)

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  actor TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('loan', 'return', 'fine', 'edit')),
  subject_id INTEGER,
  happened_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
