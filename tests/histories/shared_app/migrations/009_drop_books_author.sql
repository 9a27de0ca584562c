-- Migration: Drop books.author
-- Date: 2022-12-04
-- Description: Every screen reads authors through author_id now. The names live in authors
--              since 008, so the rollback can write them back.
-- Risk Level: MEDIUM (column dropped)

ALTER TABLE books DROP COLUMN author;
