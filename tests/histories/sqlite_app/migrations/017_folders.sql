-- Migration: Folders
-- Date: 2022-06-19
-- Description: Users file their subscriptions into folders.
-- Risk Level: LOW (new table, nullable column)

CREATE TABLE folders (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  UNIQUE (user_id, name)
);

ALTER TABLE subscriptions ADD COLUMN folder_id INTEGER REFERENCES folders(id);
