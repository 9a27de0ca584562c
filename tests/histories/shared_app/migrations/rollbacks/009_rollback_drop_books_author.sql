-- Rollback: Drop books.author

ALTER TABLE books ADD COLUMN author TEXT;
UPDATE books SET author = (SELECT a.name FROM authors AS a WHERE a.id = books.author_id);
