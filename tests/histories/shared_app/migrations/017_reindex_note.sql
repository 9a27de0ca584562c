-- Migration: Rebuild indexes after the import (no-op)
-- Date: 2023-06-11
-- Description: Done by hand on both engines (REINDEX); recorded here, runs nothing.
-- Risk Level: LOW (no-op)

/* REINDEX; -- SQLite
   REINDEX DATABASE library; -- PostgreSQL */
