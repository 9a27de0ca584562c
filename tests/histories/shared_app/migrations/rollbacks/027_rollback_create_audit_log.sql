-- Rollback: Audit log

DROP TABLE audit_log;
