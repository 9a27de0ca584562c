-- Rollback: billing.invoices

DROP TABLE billing.invoices;
