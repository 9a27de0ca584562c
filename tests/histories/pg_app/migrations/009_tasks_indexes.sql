-- Migration: Indexes for the task board
-- Date: 2023-06-07
-- Description: The board filters by project and state, and "my open tasks" by assignee.
--              tasks_project_id_idx is a prefix of the new composite index: dropped.
-- Risk Level: LOW (indexes)

CREATE INDEX tasks_project_state_idx ON tasks (project_id, state);
CREATE INDEX tasks_open_assignee_idx ON tasks (assignee_id) WHERE state <> 'done';
DROP INDEX tasks_project_id_idx;
