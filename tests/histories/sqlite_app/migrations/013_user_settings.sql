-- Migration: user_settings
-- Date: 2022-02-06
-- Description: Per-user key/value settings.
-- Risk Level: LOW (new table)

CREATE TABLE user_settings (
  user_id INTEGER NOT NULL REFERENCES users(id),
  key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 64),
  value TEXT,
  PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
