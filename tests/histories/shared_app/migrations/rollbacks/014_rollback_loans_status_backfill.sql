-- Rollback: Backfill loans.status

UPDATE loans SET status = 'open' WHERE status = 'returned';
