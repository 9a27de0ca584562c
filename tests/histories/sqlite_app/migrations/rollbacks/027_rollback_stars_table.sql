-- Rollback: Stars get a table

ALTER TABLE items ADD COLUMN starred INTEGER NOT NULL DEFAULT 0;

UPDATE items SET starred = 1 WHERE id IN (SELECT item_id FROM stars);

DROP TABLE stars;
