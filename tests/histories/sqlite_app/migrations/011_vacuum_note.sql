-- Migration: VACUUM after 0.12 (no-op)
-- Date: 2021-11-21
-- Description: 0.12 asked users to run VACUUM once by hand; VACUUM cannot run in a
--              transaction, so this migration only records that it was asked for.
-- Risk Level: LOW (no-op)

/* VACUUM; */
