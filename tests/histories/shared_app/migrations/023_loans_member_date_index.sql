-- Migration: A member's loans by date
-- Date: 2023-11-12
-- Description: The history screen sorts by date; the composite index replaces idx_loans_member.
-- Risk Level: LOW (indexes)

CREATE INDEX idx_loans_member_date ON loans(member_id, loaned_at);
DROP INDEX idx_loans_member;
