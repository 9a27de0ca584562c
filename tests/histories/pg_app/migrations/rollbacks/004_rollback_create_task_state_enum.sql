-- Rollback: Create the task_state enum

DROP TYPE task_state;
