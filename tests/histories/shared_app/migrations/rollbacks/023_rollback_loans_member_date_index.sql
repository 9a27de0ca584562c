-- Rollback: A member's loans by date

CREATE INDEX idx_loans_member ON loans(member_id);
DROP INDEX idx_loans_member_date;
