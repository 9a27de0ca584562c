-- Rollback: The theme becomes a setting

ALTER TABLE users ADD COLUMN theme TEXT DEFAULT 'light';

UPDATE users
   SET theme = (SELECT s.value FROM user_settings s WHERE s.user_id = users.id AND s.key = 'theme');

DELETE FROM user_settings WHERE key = 'theme';
