-- Rollback: Membership tiers

ALTER TABLE members DROP COLUMN membership_tier;
