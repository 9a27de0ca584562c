-- Verify: 004_add_search_indexes
-- Description: the four search indexes exist. Read-only: SQLite's INDEXED BY fails with
-- "no such index" when one is missing (PostgreSQL has no INDEXED BY: the .postgresql.sql file
-- beside this one asks its catalog instead).

SELECT current_stage FROM contractors INDEXED BY idx_contractors_stage WHERE 1 = 0;
SELECT primary_focus_area FROM contractors INDEXED BY idx_contractors_focus_area WHERE 1 = 0;
SELECT is_active FROM strategic_partners INDEXED BY idx_partners_active WHERE 1 = 0;
SELECT power_confidence_score FROM strategic_partners INDEXED BY idx_partners_confidence WHERE 1 = 0;
