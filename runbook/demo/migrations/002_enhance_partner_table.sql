-- Migration: Enhance Strategic Partner Table
-- Date: 2025-01-22
-- Description: Partner fields the matching product needs, including power_confidence_score,
--              which the guide's index strategy (idx_partners_confidence) presumes.
-- Risk Level: LOW (Non-breaking additions)

ALTER TABLE strategic_partners ADD COLUMN description TEXT;
ALTER TABLE strategic_partners ADD COLUMN website TEXT;
ALTER TABLE strategic_partners ADD COLUMN contact_email TEXT;
ALTER TABLE strategic_partners ADD COLUMN contact_phone TEXT;
ALTER TABLE strategic_partners ADD COLUMN power_confidence_score INTEGER DEFAULT 0;
ALTER TABLE strategic_partners ADD COLUMN focus_areas_served TEXT DEFAULT '[]'; -- JSON array of focus_areas.slug
ALTER TABLE strategic_partners ADD COLUMN target_revenue_ranges TEXT DEFAULT '[]'; -- JSON array of revenue_ranges.slug
ALTER TABLE strategic_partners ADD COLUMN geographic_regions TEXT DEFAULT '[]'; -- JSON array
ALTER TABLE strategic_partners ADD COLUMN client_count INTEGER DEFAULT 0;

SELECT COUNT(*) AS partner_count FROM strategic_partners;
