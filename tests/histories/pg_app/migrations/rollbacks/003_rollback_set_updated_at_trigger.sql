-- Rollback: Maintain tasks.updated_at in the database

DROP TRIGGER tasks_set_updated_at ON tasks;
DROP FUNCTION set_updated_at();
