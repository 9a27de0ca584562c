-- Rollback: open_tasks view

DROP VIEW open_tasks;
