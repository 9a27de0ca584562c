-- Migration: Premium for frequent borrowers
-- Date: 2024-01-07
-- Description: Members with two loans or more become premium.
-- Risk Level: HIGH (data update)

UPDATE members
   SET membership_tier = 'premium'
 WHERE id IN (SELECT member_id FROM loans GROUP BY member_id HAVING COUNT(*) >= 2);
