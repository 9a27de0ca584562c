-- Migration: Stamp read_at when an item is marked read
-- Date: 2022-03-13
-- Description: A trigger, so every client gets it.
-- Risk Level: LOW (trigger)

CREATE TRIGGER items_read_at AFTER UPDATE OF read ON items
WHEN NEW.read = 1 AND NEW.read_at IS NULL
BEGIN
  UPDATE items SET read_at = strftime('%Y-%m-%d %H:%M:%S', 'now') WHERE id = NEW.id;
END;
