-- Rollback: users.display_name

ALTER TABLE users DROP COLUMN display_name;
