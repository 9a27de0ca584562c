-- Rollback: billing.invoice_status

ALTER TABLE billing.invoices ALTER COLUMN status DROP DEFAULT;
ALTER TABLE billing.invoices ALTER COLUMN status TYPE text USING status::text;
ALTER TABLE billing.invoices ALTER COLUMN status SET DEFAULT 'draft';
DROP TYPE billing.invoice_status;
