-- Rollback: active_loans view

DROP VIEW active_loans;
