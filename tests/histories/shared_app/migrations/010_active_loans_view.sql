-- Migration: active_loans view
-- Date: 2023-01-08
-- Description: Loans not returned, with who has the book.
-- Risk Level: LOW (new view)

CREATE VIEW active_loans AS
SELECT l.id AS loan_id, l.loaned_at, m.id AS member_id, m.name AS member_name, b.id AS book_id, b.title
  FROM loans AS l
  JOIN members AS m ON m.id = l.member_id
  JOIN books AS b ON b.id = l.book_id
 WHERE l.returned_at IS NULL;
