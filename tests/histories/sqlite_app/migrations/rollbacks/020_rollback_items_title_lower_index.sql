-- Rollback: Case-insensitive title search

DROP INDEX items_title_lower;
