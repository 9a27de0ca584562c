-- Migration: loans.status
-- Date: 2023-03-05
-- Description: open, returned or lost (filled by 014 for existing loans).
-- Risk Level: LOW (column with a default)

ALTER TABLE loans ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
