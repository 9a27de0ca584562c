-- Seed: annual revenue ranges (reference data for revenue_ranges, created by migration 003).

INSERT INTO revenue_ranges (slug, label, min_revenue, max_revenue) VALUES
  ('under_500k', 'Under $500K', 0, 499999),
  ('500k_1m', '$500K - $1M', 500000, 999999),
  ('1m_5m', '$1M - $5M', 1000000, 4999999),
  ('5m_10m', '$5M - $10M', 5000000, 9999999),
  ('over_10m', 'Over $10M', 10000000, NULL)
ON CONFLICT (slug) DO NOTHING;
