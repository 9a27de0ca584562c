-- Rollback: refresh_project_task_counts()

DROP FUNCTION refresh_project_task_counts();
