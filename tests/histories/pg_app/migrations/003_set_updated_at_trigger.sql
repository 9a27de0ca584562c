-- Migration: Maintain tasks.updated_at in the database
-- Date: 2023-04-02
-- Description: A BEFORE UPDATE trigger sets updated_at, so no code path can forget it.
-- Risk Level: LOW (function and trigger; no existing row changes)

CREATE FUNCTION set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    -- the application used to forget this; now; it cannot
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER tasks_set_updated_at
    BEFORE UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
