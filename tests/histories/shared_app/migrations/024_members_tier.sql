-- Migration: Membership tiers
-- Date: 2024-01-07
-- Description: standard or premium (premium may borrow more).
-- Risk Level: LOW (column with a default)

ALTER TABLE members ADD COLUMN membership_tier TEXT NOT NULL DEFAULT 'standard';
