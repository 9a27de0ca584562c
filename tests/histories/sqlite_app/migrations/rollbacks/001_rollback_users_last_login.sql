-- Rollback: users.last_login

ALTER TABLE users DROP COLUMN last_login;
