-- Migration: project_task_counts materialized view
-- Date: 2023-10-23
-- Description: Per-project task counts by state for the reports page, refreshed nightly.
--              The unique index lets it be refreshed CONCURRENTLY.
-- Risk Level: LOW (materialized view and its index)

CREATE MATERIALIZED VIEW project_task_counts AS
SELECT p.id AS project_id,
       p.account_id,
       t.state,
       count(t.id) AS tasks
  FROM projects p
  LEFT JOIN tasks t ON t.project_id = p.id
 GROUP BY p.id, p.account_id, t.state
WITH DATA;

CREATE UNIQUE INDEX project_task_counts_key ON project_task_counts (project_id, state);
