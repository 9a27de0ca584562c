-- Rollback: Clean up after a deleted user

DROP TRIGGER users_delete_cleanup;
