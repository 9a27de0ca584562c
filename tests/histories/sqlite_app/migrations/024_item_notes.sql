-- Migration: Notes on items
-- Date: 2023-01-29
-- Description: Private notes a user keeps on an item.
-- Risk Level: LOW (new table)

CREATE TABLE item_notes (
  id INTEGER PRIMARY KEY,
  item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id),
  body TEXT NOT NULL CHECK (length(body) > 0),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX item_notes_item ON item_notes(item_id);
