-- Migration: Task audit log
-- Date: 2024-02-12
-- Description: Every insert, update and delete of a task is logged with the row before and
--              after, as jsonb, by a SECURITY DEFINER trigger function.
-- Risk Level: LOW (new table, function and trigger)

CREATE TABLE task_events (
    id           bigserial PRIMARY KEY,
    task_id      bigint NOT NULL,
    op           char(1) NOT NULL CHECK (op IN ('I', 'U', 'D')),
    old_row      jsonb,
    new_row      jsonb,
    happened_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX task_events_task_id_idx ON task_events (task_id, happened_at DESC);

CREATE OR REPLACE FUNCTION log_task_event() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = public, pg_temp
AS $audit$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO task_events (task_id, op, old_row) VALUES (OLD.id, 'D', to_jsonb(OLD));
        RETURN OLD;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO task_events (task_id, op, old_row, new_row)
        VALUES (NEW.id, 'U', to_jsonb(OLD), to_jsonb(NEW));
    ELSE
        INSERT INTO task_events (task_id, op, new_row) VALUES (NEW.id, 'I', to_jsonb(NEW));
    END IF;
    RETURN NEW;
END
$audit$;

CREATE TRIGGER tasks_audit
    AFTER INSERT OR UPDATE OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION log_task_event();
