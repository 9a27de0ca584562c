-- Migration: tasks.comment_count, kept by a trigger
-- Date: 2023-09-25
-- Description: The board shows a comment count per task; counting on every render was slow.
--              New column (0 for every task: no comment exists yet) and a trigger on comments.
-- Risk Level: LOW (column with a default, function, trigger)

ALTER TABLE tasks ADD COLUMN comment_count integer NOT NULL DEFAULT 0;

CREATE FUNCTION tasks_bump_comment_count() RETURNS trigger
    LANGUAGE plpgsql
AS $fn$
DECLARE
    -- neither this ';' nor a $$ quoted as $$;$$ ends the statement: the body is dollar-quoted with a tag
    delta integer;
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE tasks SET comment_count = comment_count + 1 WHERE id = NEW.task_id;
    ELSE
        UPDATE tasks SET comment_count = comment_count - 1 WHERE id = OLD.task_id;
    END IF;
    RETURN NULL;
END;
$fn$;

CREATE TRIGGER comments_count
    AFTER INSERT OR DELETE ON comments
    FOR EACH ROW EXECUTE FUNCTION tasks_bump_comment_count();
