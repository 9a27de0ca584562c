-- Migration: Add users.last_seen_at
-- Date: 2023-03-20
-- Description: When a user was last active; written by the session middleware.
-- Risk Level: LOW (nullable column)

ALTER TABLE users ADD COLUMN last_seen_at timestamptz;
