-- Migration: No default priority
-- Date: 2024-04-22
-- Description: Triage sets the priority; a default of 3 hid untriaged tasks. Inserts that
--              relied on the default now store NULL.
-- Risk Level: MEDIUM (default removed)

ALTER TABLE tasks ALTER COLUMN priority DROP DEFAULT;
