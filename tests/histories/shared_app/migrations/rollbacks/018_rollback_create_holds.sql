-- Rollback: Holds

DROP TABLE holds;
