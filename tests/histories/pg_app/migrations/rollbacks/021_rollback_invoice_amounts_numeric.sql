-- Rollback: Invoice amounts in currency units

ALTER TABLE billing.invoices ALTER COLUMN amount TYPE integer USING round(amount * 100)::integer;
ALTER TABLE billing.invoices RENAME COLUMN amount TO amount_cents;
