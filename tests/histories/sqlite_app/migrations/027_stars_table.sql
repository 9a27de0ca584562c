-- Migration: Stars get a table
-- Date: 2023-06-04
-- Description: items.starred becomes a row in stars (with when, for sorting: the read time
--              when known); the column is dropped.
-- Risk Level: HIGH (data moves between tables; a column is dropped)

CREATE TABLE stars (
  item_id INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
  starred_at TEXT
);

INSERT INTO stars (item_id, starred_at)
SELECT id, read_at FROM items WHERE starred = 1;

ALTER TABLE items DROP COLUMN starred;
