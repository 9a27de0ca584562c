-- Verify: 003_create_supporting_tables
-- Description: the four supporting tables exist with their columns. Read-only: each query returns
-- no row and fails when a table or a column is missing.

SELECT id, slug, label, sort_order FROM focus_areas WHERE 1 = 0;
SELECT id, slug, label, min_revenue, max_revenue FROM revenue_ranges WHERE 1 = 0;
SELECT partner_id, focus_area_id FROM partner_focus_areas WHERE 1 = 0;
SELECT id, contractor_id, partner_id, match_score, matched_at FROM contractor_partner_matches WHERE 1 = 0;
