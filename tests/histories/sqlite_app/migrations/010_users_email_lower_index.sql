-- Migration: Case-insensitive e-mail lookup
-- Date: 2021-10-03
-- Description: Password reset looks users up by lower(email).
-- Risk Level: LOW (expression index)

CREATE INDEX users_email_lower ON users(lower(email));
