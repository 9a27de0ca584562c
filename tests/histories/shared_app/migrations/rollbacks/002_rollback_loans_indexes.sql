-- Rollback: Index loans by member and by book

DROP INDEX idx_loans_book;
DROP INDEX idx_loans_member;
