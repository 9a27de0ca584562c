-- Rollback: members.phone is now members.phone_number

ALTER TABLE members RENAME COLUMN phone_number TO phone;
