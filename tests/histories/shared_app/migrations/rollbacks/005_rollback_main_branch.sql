-- Rollback: Every book starts at the main branch

UPDATE books SET branch_id = NULL WHERE branch_id = 1;
DELETE FROM branches WHERE id = 1;
