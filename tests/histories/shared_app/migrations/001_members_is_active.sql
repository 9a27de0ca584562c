-- Migration: members.is_active
-- Date: 2022-09-14
-- Description: Lapsed members are kept but marked inactive.
-- Risk Level: LOW (column with a default)

ALTER TABLE members ADD COLUMN is_active BOOLEAN NOT NULL DEFAULT TRUE;
