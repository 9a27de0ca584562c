-- Migration: tasks.state becomes a task_state
-- Date: 2023-04-18
-- Description: Free text let typos in ('in progress', 'Done'); the enum refuses them. The
--              default is dropped first: it is a text literal and cannot be cast in place.
-- Risk Level: MEDIUM (column type change)

ALTER TABLE tasks ALTER COLUMN state DROP DEFAULT;
ALTER TABLE tasks ALTER COLUMN state TYPE task_state USING state::task_state;
ALTER TABLE tasks ALTER COLUMN state SET DEFAULT 'open';
