-- Rollback: Create Supporting Tables
-- Description: Drops the supporting tables, dependents first.

DROP INDEX idx_matches_partner;
DROP INDEX idx_matches_contractor;
DROP TABLE contractor_partner_matches;
DROP TABLE partner_focus_areas;
DROP TABLE revenue_ranges;
DROP TABLE focus_areas;
