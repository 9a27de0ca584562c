-- Rollback: Indexes for the task board

CREATE INDEX tasks_project_id_idx ON tasks (project_id);
DROP INDEX tasks_open_assignee_idx;
DROP INDEX tasks_project_state_idx;
