-- Migration: items.read_at
-- Date: 2022-03-13
-- Description: When an item was read. Items already read get their publication time, the
--              best lower bound we have.
-- Risk Level: HIGH (data backfill)

ALTER TABLE items ADD COLUMN read_at TEXT;

UPDATE items SET read_at = published WHERE read = 1;
