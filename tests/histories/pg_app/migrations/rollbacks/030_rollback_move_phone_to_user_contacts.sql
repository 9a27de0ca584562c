-- Rollback: Phone numbers move to user_contacts

ALTER TABLE users ADD COLUMN phone text;

UPDATE users u
   SET phone = c.value
  FROM user_contacts c
 WHERE c.user_id = u.id
   AND c.kind = 'phone';

DROP TABLE user_contacts;
