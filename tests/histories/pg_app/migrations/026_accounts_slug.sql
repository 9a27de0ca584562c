-- Migration: accounts.slug
-- Date: 2024-04-08
-- Description: URL slugs for accounts (/a/<slug>), derived from the name for existing
--              accounts, then required and unique.
-- Risk Level: HIGH (data backfill of every account)

ALTER TABLE accounts ADD COLUMN slug text;

UPDATE accounts
   SET slug = btrim(regexp_replace(lower(name), E'[^a-z0-9]+', '-', 'g'), '-');

ALTER TABLE accounts ALTER COLUMN slug SET NOT NULL;
CREATE UNIQUE INDEX accounts_slug_key ON accounts (slug);
