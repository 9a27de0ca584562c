-- Rollback: Task search

DROP INDEX tasks_search_idx;
ALTER TABLE tasks DROP COLUMN search;
