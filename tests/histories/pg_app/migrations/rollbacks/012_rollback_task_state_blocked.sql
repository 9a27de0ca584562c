-- Rollback: A 'blocked' task state
-- Description: PostgreSQL cannot drop a value from an enum: the type is rebuilt without it.
--              Blocked tasks go back to 'in_progress', the state they had before 012.
--              The view and the partial index that compare tasks.state with a task_state
--              literal are dropped around the type change and recreated as they were.

DROP VIEW open_tasks;
DROP INDEX tasks_open_assignee_idx;
ALTER TABLE tasks ALTER COLUMN state DROP DEFAULT;
UPDATE tasks SET state = 'in_progress' WHERE state = 'blocked';
CREATE TYPE task_state_old AS ENUM ('open', 'in_progress', 'done');
ALTER TABLE tasks ALTER COLUMN state TYPE task_state_old USING state::text::task_state_old;
DROP TYPE task_state;
ALTER TYPE task_state_old RENAME TO task_state;
ALTER TABLE tasks ALTER COLUMN state SET DEFAULT 'open';
CREATE INDEX tasks_open_assignee_idx ON tasks (assignee_id) WHERE state <> 'done';
CREATE VIEW open_tasks AS
SELECT t.id,
       t.title,
       t.state,
       t.priority,
       p.name AS project_name,
       p.account_id
  FROM tasks t
  JOIN projects p ON p.id = t.project_id
 WHERE t.state <> 'done'
   AND NOT p.archived;
