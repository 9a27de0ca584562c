-- Migration: Books point at their author
-- Date: 2022-11-06
-- Description: One authors row per distinct books.author, and books.author_id set from it.
--              books.author stays until 009 so the old screens keep working for a release.
-- Risk Level: HIGH (data moves between tables)

INSERT INTO authors (name)
SELECT DISTINCT author FROM books WHERE author IS NOT NULL ORDER BY author;

ALTER TABLE books ADD COLUMN author_id INTEGER;

UPDATE books SET author_id = (SELECT a.id FROM authors AS a WHERE a.name = books.author);
