-- Migration: Backfill loans.status
-- Date: 2023-03-05
-- Description: Loans with a return date are 'returned'.
-- Risk Level: HIGH (data update)

UPDATE loans SET status = 'returned' WHERE returned_at IS NOT NULL;
