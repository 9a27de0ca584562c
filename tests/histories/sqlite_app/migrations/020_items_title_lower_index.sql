-- Migration: Case-insensitive title search
-- Date: 2022-10-16
-- Description: An expression index for WHERE lower(title) LIKE ...
-- Risk Level: LOW (expression index)

CREATE INDEX items_title_lower ON items(lower(title));
