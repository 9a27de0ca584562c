-- Rollback: Task comments

DROP TABLE comments;
