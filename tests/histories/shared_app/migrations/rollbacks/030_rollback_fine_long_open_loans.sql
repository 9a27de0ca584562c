-- Rollback: Books out since before 2023 are lost

UPDATE loans SET status = 'open' WHERE status = 'lost';
DELETE FROM fines WHERE reason = 'lost';
