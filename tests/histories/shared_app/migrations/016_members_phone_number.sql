-- Migration: members.phone is now members.phone_number
-- Date: 2023-05-21
-- Description: The name the export format uses.
-- Risk Level: MEDIUM (column rename)

ALTER TABLE members RENAME COLUMN phone TO phone_number;
