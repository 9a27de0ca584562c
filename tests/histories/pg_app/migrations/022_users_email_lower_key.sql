-- Migration: E-mail addresses unique regardless of case
-- Date: 2024-01-22
-- Description: Sign-up lower-cases addresses now; the index keeps "Ann@x" and "ann@x" from
--              both existing. Fails if such a pair exists (none did in production).
-- Risk Level: MEDIUM (new unique constraint on existing rows)

CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
