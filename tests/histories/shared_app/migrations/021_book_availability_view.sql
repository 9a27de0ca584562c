-- Migration: book_availability view
-- Date: 2023-09-10
-- Description: Copies on the shelf: copies owned minus loans not returned.
-- Risk Level: LOW (new view)

CREATE VIEW book_availability AS
SELECT b.id AS book_id,
       b.title,
       b.copies - (SELECT COUNT(*) FROM loans AS l WHERE l.book_id = b.id AND l.returned_at IS NULL) AS available
  FROM books AS b;
