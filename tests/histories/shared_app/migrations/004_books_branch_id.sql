-- Migration: books.branch_id
-- Date: 2022-10-02
-- Description: Which branch holds a book. No REFERENCES clause: SQLite can add one only by
--              rebuilding the table and could not drop the column again; the application
--              checks the relation (and verify counts orphans).
-- Risk Level: LOW (nullable column, index)

ALTER TABLE books ADD COLUMN branch_id INTEGER;
CREATE INDEX idx_books_branch ON books(branch_id);
