-- Rollback: book_availability view

DROP VIEW book_availability;
