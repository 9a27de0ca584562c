-- Migration: Add Enhanced Contractor Fields
-- Date: 2025-01-15
-- Description: Add all screenshot-based fields to contractors table
-- Risk Level: LOW (Non-breaking additions)

BEGIN TRANSACTION;

-- Add new fields with safe defaults
ALTER TABLE contractors ADD COLUMN company_website TEXT;
ALTER TABLE contractors ADD COLUMN service_area TEXT;
ALTER TABLE contractors ADD COLUMN services_offered TEXT DEFAULT '[]'; -- JSON array
ALTER TABLE contractors ADD COLUMN verification_status TEXT DEFAULT 'pending';
ALTER TABLE contractors ADD COLUMN verification_code TEXT;
ALTER TABLE contractors ADD COLUMN focus_areas TEXT DEFAULT '[]'; -- JSON array
ALTER TABLE contractors ADD COLUMN primary_focus_area TEXT;
ALTER TABLE contractors ADD COLUMN annual_revenue TEXT;
ALTER TABLE contractors ADD COLUMN team_size INTEGER;
ALTER TABLE contractors ADD COLUMN increased_tools BOOLEAN DEFAULT FALSE;
ALTER TABLE contractors ADD COLUMN increased_people BOOLEAN DEFAULT FALSE;
ALTER TABLE contractors ADD COLUMN increased_activity BOOLEAN DEFAULT FALSE;
ALTER TABLE contractors ADD COLUMN current_stage TEXT DEFAULT 'verification';
ALTER TABLE contractors ADD COLUMN assigned_partner_id INTEGER;
ALTER TABLE contractors ADD COLUMN demo_scheduled_date DATETIME;
ALTER TABLE contractors ADD COLUMN opted_in_coaching BOOLEAN DEFAULT FALSE;

-- Add foreign key constraint
CREATE INDEX idx_contractors_assigned_partner ON contractors(assigned_partner_id);

-- Verify migration
SELECT COUNT(*) as contractor_count FROM contractors;

-- Check new columns exist
PRAGMA table_info(contractors);

COMMIT;
