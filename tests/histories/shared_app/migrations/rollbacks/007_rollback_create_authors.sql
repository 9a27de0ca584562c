-- Rollback: Authors

DROP TABLE authors;
