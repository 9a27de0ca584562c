-- Rollback: Index reservations by book

DROP INDEX idx_reservations_book;
