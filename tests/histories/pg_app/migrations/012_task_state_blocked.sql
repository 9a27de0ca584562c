-- Migration: A 'blocked' task state
-- Date: 2023-08-15
-- Description: Adds 'blocked' between 'in_progress' and 'done'. On PostgreSQL 12 and later
--              ADD VALUE runs inside a transaction, but the new value cannot be used in the
--              same transaction: nothing here uses it.
-- Risk Level: LOW (new enum value)

ALTER TYPE task_state ADD VALUE IF NOT EXISTS 'blocked' BEFORE 'done';
