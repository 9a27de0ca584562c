-- Migration: Authors
-- Date: 2022-11-06
-- Description: Authors get a table of their own (filled by 008).
-- Risk Level: LOW (new table)

CREATE TABLE authors (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  sort_name TEXT
);
