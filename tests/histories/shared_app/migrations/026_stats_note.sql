-- Migration: Statistics refresh (no-op)
-- Date: 2024-02-04
-- Description: ANALYZE is scheduled by the host on both engines now. Kept for numbering.
-- Risk Level: LOW (no-op)

-- ANALYZE;
