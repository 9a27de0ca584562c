-- Migration: The theme becomes a setting
-- Date: 2022-07-24
-- Description: users.theme moves into user_settings (key 'theme'); the column is dropped.
-- Risk Level: HIGH (data moves between tables; a column is dropped)

INSERT INTO user_settings (user_id, key, value)
SELECT id, 'theme', theme FROM users WHERE theme IS NOT NULL;

ALTER TABLE users DROP COLUMN theme;
