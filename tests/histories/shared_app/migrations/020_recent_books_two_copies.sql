-- Migration: Two copies of recent books
-- Date: 2023-08-06
-- Description: The 2023 purchase doubled every title published since 2020.
-- Risk Level: HIGH (data update)

UPDATE books SET copies = 2 WHERE published_year >= 2020;
