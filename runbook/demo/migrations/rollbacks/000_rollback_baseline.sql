-- Rollback: Baseline
-- Description: Drops the baseline tables. This deletes every row in them: only for taking a
--              scratch database back to empty, never for production.
-- Risk Level: HIGH (Destructive)

DROP TABLE admin_users;
DROP TABLE strategic_partners;
DROP TABLE contractors;
