-- Migration: Fines
-- Date: 2023-04-16
-- Description: Fines on loans, in cents, never negative.
-- Risk Level: LOW (new table)

CREATE TABLE fines (
  id INTEGER PRIMARY KEY,
  loan_id INTEGER NOT NULL REFERENCES loans(id),
  amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
  reason TEXT,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_fines_loan ON fines(loan_id);
