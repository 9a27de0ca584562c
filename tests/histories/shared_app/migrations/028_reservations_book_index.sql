-- Migration: Index reservations by book
-- Date: 2024-03-03
-- Description: "Who is waiting for this book" at the return desk.
-- Risk Level: LOW (index)

CREATE INDEX idx_reservations_book ON reservations(book_id);
