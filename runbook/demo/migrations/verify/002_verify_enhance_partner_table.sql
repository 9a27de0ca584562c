-- Verify: 002_enhance_partner_table
-- Description: the partner fields exist. Read-only: the query returns no row and fails when a
-- column is missing.

SELECT description, website, contact_email, contact_phone, power_confidence_score, focus_areas_served,
       target_revenue_ranges, geographic_regions, client_count
  FROM strategic_partners
 WHERE 1 = 0;
