-- Migration: Clean up after a deleted user
-- Date: 2023-04-16
-- Description: Foreign keys are off in older clients; a trigger deletes the user's
--              settings and folders instead.
-- Risk Level: LOW (trigger)

CREATE TRIGGER users_delete_cleanup AFTER DELETE ON users
BEGIN
  DELETE FROM user_settings WHERE user_id = OLD.id;
  DELETE FROM folders WHERE user_id = OLD.id;
END;
