-- Rollback: Branches

DROP TABLE branches;
