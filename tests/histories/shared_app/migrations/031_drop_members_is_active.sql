-- Migration: Drop members.is_active
-- Date: 2024-06-09
-- Description: Never set to false by any screen; membership tiers replaced it.
-- Risk Level: MEDIUM (column dropped)

ALTER TABLE members DROP COLUMN is_active;
