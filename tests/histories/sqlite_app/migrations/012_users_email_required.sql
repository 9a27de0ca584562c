-- Migration: Every user has an e-mail address
-- Date: 2022-01-09
-- Description: Users without one get <username>@users.invalid (never delivered), then the
--              table is rebuilt with email NOT NULL and a sanity CHECK.
-- Risk Level: HIGH (data backfill, table rebuild)

UPDATE users SET email = username || '@users.invalid' WHERE email IS NULL OR email = '';

CREATE TABLE users_new (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL CHECK (email LIKE '%_@_%'),
  theme TEXT DEFAULT 'light',
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  last_login TEXT,
  display_name TEXT
);

INSERT INTO users_new (id, username, email, theme, created_at, last_login, display_name)
SELECT id, username, email, theme, created_at, last_login, display_name FROM users;

DROP TABLE users;

ALTER TABLE users_new RENAME TO users;

CREATE INDEX users_email_lower ON users(lower(email));
