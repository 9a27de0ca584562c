-- Migration: users.display_name
-- Date: 2023-09-04
-- Description: The name shown in the UI: the full name when there is one, else the local
--              part of the e-mail address. Backfilled for existing users, then NOT NULL.
-- Risk Level: HIGH (data backfill of every user)

ALTER TABLE users ADD COLUMN display_name text;

UPDATE users
   SET display_name = COALESCE(NULLIF(btrim(full_name), ''), split_part(email, '@', 1));

ALTER TABLE users ALTER COLUMN display_name SET NOT NULL;
