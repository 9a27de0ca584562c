-- Rollback: accounts.slug

DROP INDEX accounts_slug_key;
ALTER TABLE accounts DROP COLUMN slug;
