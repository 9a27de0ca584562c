-- Migration: Task search
-- Date: 2024-08-05
-- Description: A stored, generated tsvector over title and description, with a GIN index.
-- Risk Level: LOW (generated column, index)

ALTER TABLE tasks
    ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('english', coalesce(title, '') || ' ' || coalesce(description, ''))) STORED;

CREATE INDEX tasks_search_idx ON tasks USING gin (search);
