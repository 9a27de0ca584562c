-- Migration: users.display_name
-- Date: 2021-06-06
-- Description: The name shown in the header; existing users get their username.
-- Risk Level: HIGH (data backfill)

ALTER TABLE users ADD COLUMN display_name TEXT;

UPDATE users SET display_name = username WHERE display_name IS NULL;
