-- Rollback: Case-insensitive member lookup by e-mail

DROP INDEX idx_members_email_lower;
