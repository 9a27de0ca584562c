-- Rollback: Priorities from 1 to 5

ALTER TABLE tasks DROP CONSTRAINT tasks_priority_range;
