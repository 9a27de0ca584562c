-- Rollback: user_settings

DROP TABLE user_settings;
