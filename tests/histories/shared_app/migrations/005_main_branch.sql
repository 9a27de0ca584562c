-- Migration: Every book starts at the main branch
-- Date: 2022-10-03
-- Description: Creates the main branch (id 1) and assigns it every book that has no branch.
-- Risk Level: HIGH (data insert and update)

INSERT INTO branches (id, name, address) VALUES (1, 'Main Library', '1 Library Square');

UPDATE books SET branch_id = 1 WHERE branch_id IS NULL;
