-- Migration: refresh_project_task_counts()
-- Date: 2024-06-03
-- Description: The nightly job calls this instead of issuing REFRESH itself.
-- Risk Level: LOW (new function)

CREATE FUNCTION refresh_project_task_counts() RETURNS void
    LANGUAGE plpgsql
AS $body$
BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY project_task_counts;
END;
$body$;

COMMENT ON FUNCTION refresh_project_task_counts() IS 'Called by the nightly job; CONCURRENTLY needs the unique index of 017.';
