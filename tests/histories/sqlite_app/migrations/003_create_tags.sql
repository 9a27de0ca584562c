-- Migration: Tags
-- Date: 2021-04-11
-- Description: User-defined tags on items.
-- Risk Level: LOW (new tables)

CREATE TABLE tags (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE
);

CREATE TABLE item_tags (
  item_id INTEGER NOT NULL REFERENCES items(id),
  tag_id INTEGER NOT NULL REFERENCES tags(id),
  PRIMARY KEY (item_id, tag_id)
) WITHOUT ROWID;
