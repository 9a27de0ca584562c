-- Migration: Create Supporting Tables
-- Date: 2025-02-03
-- Description: Reference tables (focus areas, revenue ranges), partner tagging and the
--              contractor-partner match log. Reference rows are seeds (seeds/*.sql).
-- Risk Level: LOW (New tables only)

CREATE TABLE focus_areas (
  id INTEGER PRIMARY KEY,
  slug TEXT UNIQUE NOT NULL,
  label TEXT NOT NULL,
  sort_order INTEGER DEFAULT 0
);

CREATE TABLE revenue_ranges (
  id INTEGER PRIMARY KEY,
  slug TEXT UNIQUE NOT NULL,
  label TEXT NOT NULL,
  min_revenue INTEGER,
  max_revenue INTEGER
);

CREATE TABLE partner_focus_areas (
  partner_id INTEGER NOT NULL REFERENCES strategic_partners(id),
  focus_area_id INTEGER NOT NULL REFERENCES focus_areas(id),
  PRIMARY KEY (partner_id, focus_area_id)
);

CREATE TABLE contractor_partner_matches (
  id INTEGER PRIMARY KEY,
  contractor_id INTEGER NOT NULL REFERENCES contractors(id),
  partner_id INTEGER NOT NULL REFERENCES strategic_partners(id),
  match_score INTEGER,
  matched_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_matches_contractor ON contractor_partner_matches(contractor_id);
CREATE INDEX idx_matches_partner ON contractor_partner_matches(partner_id);
