-- Migration: Add Search Indexes
-- Date: 2025-02-10
-- Description: The guide's index strategy for commonly searched fields. The guide's
--              idx_contractors_email is left out: email is UNIQUE, so it is indexed already.
-- Risk Level: LOW (Indexes only)

CREATE INDEX idx_contractors_stage ON contractors(current_stage);
CREATE INDEX idx_contractors_focus_area ON contractors(primary_focus_area);
CREATE INDEX idx_partners_active ON strategic_partners(is_active);
CREATE INDEX idx_partners_confidence ON strategic_partners(power_confidence_score);
