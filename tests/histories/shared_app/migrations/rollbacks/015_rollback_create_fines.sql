-- Rollback: Fines

DROP INDEX idx_fines_loan;
DROP TABLE fines;
