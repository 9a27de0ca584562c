-- Migration: Reindex after the PostgreSQL 12 upgrade (no-op)
-- Date: 2024-07-15
-- Description: Operators ran REINDEX CONCURRENTLY by hand during the upgrade; this file
--              records that in the history and runs nothing.
-- Risk Level: LOW (no-op)

-- REINDEX TABLE CONCURRENTLY tasks;   (done by hand, see the upgrade notes)
