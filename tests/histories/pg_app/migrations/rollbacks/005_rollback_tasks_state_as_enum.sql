-- Rollback: tasks.state becomes a task_state

ALTER TABLE tasks ALTER COLUMN state DROP DEFAULT;
ALTER TABLE tasks ALTER COLUMN state TYPE text USING state::text;
ALTER TABLE tasks ALTER COLUMN state SET DEFAULT 'open';
