-- Rollback: project_task_counts materialized view

DROP MATERIALIZED VIEW project_task_counts;
