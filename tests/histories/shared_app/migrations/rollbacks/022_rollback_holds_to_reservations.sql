-- Rollback: holds is now reservations

ALTER TABLE reservations RENAME TO holds;
