-- Migration: Baseline
-- Date: 2022-09-01
-- Description: The lending library's schema as it runs in branches (SQLite) and at the
--              central office (PostgreSQL): members, books and loans.
-- Risk Level: LOW (creates tables)

CREATE TABLE members (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  phone TEXT,
  joined_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE books (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  author TEXT,
  isbn TEXT UNIQUE,
  published_year INTEGER
);

CREATE TABLE loans (
  id INTEGER PRIMARY KEY,
  member_id INTEGER NOT NULL REFERENCES members(id),
  book_id INTEGER NOT NULL REFERENCES books(id),
  loaned_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  returned_at DATETIME
);
