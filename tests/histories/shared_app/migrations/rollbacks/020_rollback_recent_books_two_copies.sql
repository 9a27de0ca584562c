-- Rollback: Two copies of recent books
-- Description: Every book had 1 copy before 020 (019 added the column with that default).

UPDATE books SET copies = 1 WHERE copies = 2;
