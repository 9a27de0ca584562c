-- Rollback: tasks.comment_count, kept by a trigger

DROP TRIGGER comments_count ON comments;
DROP FUNCTION tasks_bump_comment_count();
ALTER TABLE tasks DROP COLUMN comment_count;
