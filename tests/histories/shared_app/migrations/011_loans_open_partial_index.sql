-- Migration: Partial index on open loans
-- Date: 2023-01-08
-- Description: "Is this book out?" only looks at loans not returned.
-- Risk Level: LOW (index)

CREATE INDEX idx_loans_open_book ON loans(book_id) WHERE returned_at IS NULL;
