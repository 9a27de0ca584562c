-- Migration: users.last_login
-- Date: 2021-03-02
-- Description: When the user last signed in (ISO-8601 text, UTC), for the admin page.
-- Risk Level: LOW (nullable column)

ALTER TABLE users ADD COLUMN last_login TEXT;
