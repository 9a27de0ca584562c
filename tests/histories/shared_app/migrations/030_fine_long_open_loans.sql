-- Migration: Books out since before 2023 are lost
-- Date: 2024-05-05
-- Description: Each such loan gets a 2500-cent 'lost' fine and the status 'lost'.
-- Risk Level: HIGH (data insert and update)

INSERT INTO fines (loan_id, amount_cents, reason)
SELECT id, 2500, 'lost' FROM loans WHERE returned_at IS NULL AND loaned_at < '2023-01-01';

UPDATE loans SET status = 'lost' WHERE returned_at IS NULL AND loaned_at < '2023-01-01';
