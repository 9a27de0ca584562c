-- Migration: Branches
-- Date: 2022-10-02
-- Description: The library has more than one building now.
-- Risk Level: LOW (new table)

CREATE TABLE branches (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  address TEXT
);
