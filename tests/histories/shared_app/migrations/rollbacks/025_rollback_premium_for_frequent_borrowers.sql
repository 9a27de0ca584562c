-- Rollback: Premium for frequent borrowers
-- Description: Every member was 'standard' before 025 (024 added the column with that default).

UPDATE members SET membership_tier = 'standard' WHERE membership_tier = 'premium';
