-- Migration: books.copies
-- Date: 2023-08-06
-- Description: How many copies the library owns (1 unless told otherwise).
-- Risk Level: LOW (column with a default)

ALTER TABLE books ADD COLUMN copies INTEGER NOT NULL DEFAULT 1;
