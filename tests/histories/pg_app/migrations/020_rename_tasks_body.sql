-- Migration: tasks.body is now tasks.description
-- Date: 2023-12-04
-- Description: The API has called it "description" since v2; the column follows.
-- Risk Level: MEDIUM (column rename)

ALTER TABLE tasks RENAME COLUMN body TO description;
