-- Rollback: Case-insensitive e-mail lookup

DROP INDEX users_email_lower;
