-- Rollback: books.branch_id

DROP INDEX idx_books_branch;
ALTER TABLE books DROP COLUMN branch_id;
