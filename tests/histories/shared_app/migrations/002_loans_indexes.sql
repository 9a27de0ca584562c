-- Migration: Index loans by member and by book
-- Date: 2022-09-14
-- Description: A member's loans and a book's loans are the two screens staff use most.
-- Risk Level: LOW (indexes)

CREATE INDEX idx_loans_member ON loans(member_id);
CREATE INDEX idx_loans_book ON loans(book_id);
