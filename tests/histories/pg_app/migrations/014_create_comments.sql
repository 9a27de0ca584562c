-- Migration: Task comments
-- Date: 2023-09-18
-- Description: Comments on tasks (Markdown).
-- Risk Level: LOW (new table)

CREATE TABLE comments (
    id          bigserial PRIMARY KEY,
    task_id     bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    author_id   bigint REFERENCES users (id) ON DELETE SET NULL,
    body        text NOT NULL CHECK (body <> E''),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX comments_task_id_idx ON comments (task_id);

COMMENT ON COLUMN comments.body IS E'Markdown, rendered with the \"safe\" profile;\ttabs are kept.';
