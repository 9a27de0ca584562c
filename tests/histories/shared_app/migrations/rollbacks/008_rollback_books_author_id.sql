-- Rollback: Books point at their author

ALTER TABLE books DROP COLUMN author_id;
DELETE FROM authors;
