-- Rollback: books.copies

ALTER TABLE books DROP COLUMN copies;
