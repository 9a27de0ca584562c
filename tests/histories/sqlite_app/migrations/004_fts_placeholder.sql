-- Migration: Full-text search (postponed)
-- Date: 2021-05-01
-- Description: Shipped empty: the FTS5 table needed a SQLite newer than the one some
--              distributions packaged. The number stays so installed databases agree.
-- Risk Level: LOW (no-op)

-- CREATE VIRTUAL TABLE items_fts USING fts5(title, content='items');
