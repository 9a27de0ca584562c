-- Rollback: Partial index on open loans

DROP INDEX idx_loans_open_book;
