-- Migration: ANALYZE (no-op)
-- Date: 2023-10-01
-- Description: The application runs PRAGMA optimize on close since 1.4; nothing to do here.
-- Risk Level: LOW (no-op)

-- PRAGMA optimize;
