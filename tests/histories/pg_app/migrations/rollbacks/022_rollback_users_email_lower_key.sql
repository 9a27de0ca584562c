-- Rollback: E-mail addresses unique regardless of case

DROP INDEX users_email_lower_key;
