-- Rollback: member_summary view

DROP VIEW member_summary;
