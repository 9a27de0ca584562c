-- Migration: Phone numbers move to user_contacts
-- Date: 2024-07-01
-- Description: A user may have several ways to be reached; users.phone becomes a 'phone'
--              row in user_contacts, and the column is dropped.
-- Risk Level: HIGH (data moves between tables; a column is dropped)

CREATE TABLE user_contacts (
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind     text NOT NULL DEFAULT 'phone',
    value    text NOT NULL,
    PRIMARY KEY (user_id, kind)
);

INSERT INTO user_contacts (user_id, kind, value)
SELECT id, 'phone', phone
  FROM users
 WHERE phone IS NOT NULL;

ALTER TABLE users DROP COLUMN phone;
