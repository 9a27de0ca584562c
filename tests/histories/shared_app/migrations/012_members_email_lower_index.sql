-- Migration: Case-insensitive member lookup by e-mail
-- Date: 2023-02-12
-- Description: The self-service kiosk looks members up by LOWER(email).
-- Risk Level: LOW (expression index)

CREATE INDEX idx_members_email_lower ON members(LOWER(email));
