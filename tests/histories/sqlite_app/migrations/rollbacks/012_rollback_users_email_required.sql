-- Rollback: Every user has an e-mail address
-- Description: Rebuilds users with a nullable email; the placeholder addresses 012 wrote
--              become NULL again.

CREATE TABLE users_old (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  email TEXT,
  theme TEXT DEFAULT 'light',
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  last_login TEXT,
  display_name TEXT
);

INSERT INTO users_old (id, username, email, theme, created_at, last_login, display_name)
SELECT id, username,
       CASE WHEN email = username || '@users.invalid' THEN NULL ELSE email END,
       theme, created_at, last_login, display_name
  FROM users;

DROP TABLE users;

ALTER TABLE users_old RENAME TO users;

CREATE INDEX users_email_lower ON users(lower(email));
