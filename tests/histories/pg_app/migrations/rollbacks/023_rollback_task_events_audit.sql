-- Rollback: Task audit log

DROP TRIGGER tasks_audit ON tasks;
DROP FUNCTION log_task_event();
DROP TABLE task_events;
