-- Verify: 004_add_search_indexes (PostgreSQL)
-- Description: the four search indexes exist. Read-only: the ASSERT fails, naming what is
-- missing, when the catalog lacks one of them.

DO $$
BEGIN
  ASSERT (SELECT count(*) FROM pg_indexes
           WHERE schemaname = current_schema()
             AND indexname IN ('idx_contractors_stage', 'idx_contractors_focus_area',
                               'idx_partners_active', 'idx_partners_confidence')) = 4,
         'a search index of 004_add_search_indexes is missing';
END
$$;
