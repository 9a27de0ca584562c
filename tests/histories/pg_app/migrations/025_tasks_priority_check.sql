-- Migration: Priorities from 1 to 5
-- Date: 2024-03-18
-- Description: Added NOT VALID then validated, so the table is not locked while existing
--              rows are checked.
-- Risk Level: MEDIUM (new constraint on existing rows)

ALTER TABLE tasks ADD CONSTRAINT tasks_priority_range CHECK (priority BETWEEN 1 AND 5) NOT VALID;
ALTER TABLE tasks VALIDATE CONSTRAINT tasks_priority_range;
