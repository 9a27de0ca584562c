-- Seed: focus areas (reference data for focus_areas, created by migration 003).
-- Loads once the table exists; ON CONFLICT DO NOTHING makes it safe to load again
-- (SQLite 3.24+ and PostgreSQL 9.5+ share this syntax).

INSERT INTO focus_areas (slug, label, sort_order) VALUES
  ('greenfield_growth', 'Greenfield growth', 1),
  ('closing_higher_percentage', 'Closing a higher percentage', 2),
  ('controlling_lead_flow', 'Controlling lead flow', 3),
  ('installation_quality', 'Installation quality', 4),
  ('hiring_sales_leadership', 'Hiring sales leadership', 5),
  ('marketing_automation', 'Marketing automation', 6),
  ('customer_retention', 'Customer retention', 7),
  ('operational_efficiency', 'Operational efficiency', 8)
ON CONFLICT (slug) DO NOTHING;
