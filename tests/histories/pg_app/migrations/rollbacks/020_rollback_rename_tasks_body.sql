-- Rollback: tasks.body is now tasks.description

ALTER TABLE tasks RENAME COLUMN description TO body;
