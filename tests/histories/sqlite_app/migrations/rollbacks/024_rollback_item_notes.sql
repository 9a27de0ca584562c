-- Rollback: Notes on items

DROP TABLE item_notes;
