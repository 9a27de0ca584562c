-- Migration: Baseline
-- Date: 2021-02-14
-- Description: The feed reader's schema as of release 0.9, before versioned migrations:
--              users, feeds, their items, and who subscribes to what.
-- Risk Level: LOW (creates tables)

CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  email TEXT,
  theme TEXT DEFAULT 'light',
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE feeds (
  id INTEGER PRIMARY KEY,
  url TEXT NOT NULL UNIQUE,
  title TEXT,
  last_fetched TEXT
);

CREATE TABLE items (
  id INTEGER PRIMARY KEY,
  feed_id INTEGER NOT NULL REFERENCES feeds(id),
  guid TEXT NOT NULL,
  title TEXT,
  link TEXT,
  published TEXT,
  read INTEGER DEFAULT 0,
  starred INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE subscriptions (
  user_id INTEGER NOT NULL REFERENCES users(id),
  feed_id INTEGER NOT NULL REFERENCES feeds(id),
  PRIMARY KEY (user_id, feed_id)
);

CREATE INDEX items_feed ON items(feed_id);
