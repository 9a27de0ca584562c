-- Migration: Due dates; default priority
-- Date: 2023-11-06
-- Description: tasks.due_on (a date, no time); new tasks get priority 3 unless told otherwise.
-- Risk Level: LOW (nullable column, new default)

ALTER TABLE tasks ADD COLUMN due_on date;
ALTER TABLE tasks ALTER COLUMN priority SET DEFAULT 3;
