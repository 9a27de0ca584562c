-- Migration: holds is now reservations
-- Date: 2023-10-15
-- Description: The word the front desk uses.
-- Risk Level: MEDIUM (table rename)

ALTER TABLE holds RENAME TO reservations;
