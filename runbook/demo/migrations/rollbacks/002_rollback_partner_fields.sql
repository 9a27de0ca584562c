-- Rollback: Enhance Strategic Partner Table
-- Description: Back to the baseline strategic_partners table; original rows are kept.

ALTER TABLE strategic_partners DROP COLUMN client_count;
ALTER TABLE strategic_partners DROP COLUMN geographic_regions;
ALTER TABLE strategic_partners DROP COLUMN target_revenue_ranges;
ALTER TABLE strategic_partners DROP COLUMN focus_areas_served;
ALTER TABLE strategic_partners DROP COLUMN power_confidence_score;
ALTER TABLE strategic_partners DROP COLUMN contact_phone;
ALTER TABLE strategic_partners DROP COLUMN contact_email;
ALTER TABLE strategic_partners DROP COLUMN website;
ALTER TABLE strategic_partners DROP COLUMN description;
