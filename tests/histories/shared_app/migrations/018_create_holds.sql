-- Migration: Holds
-- Date: 2023-07-02
-- Description: A member may hold a book once.
-- Risk Level: LOW (new table)

CREATE TABLE holds (
  id INTEGER PRIMARY KEY,
  member_id INTEGER NOT NULL REFERENCES members(id),
  book_id INTEGER NOT NULL REFERENCES books(id),
  placed_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  UNIQUE (member_id, book_id)
);
