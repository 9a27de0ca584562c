-- Migration: billing.invoice_status
-- Date: 2024-05-13
-- Description: Invoice status as an enum in the billing schema.
-- Risk Level: MEDIUM (column type change)

CREATE TYPE billing.invoice_status AS ENUM ('draft', 'open', 'paid', 'void');

ALTER TABLE billing.invoices ALTER COLUMN status DROP DEFAULT;
ALTER TABLE billing.invoices
    ALTER COLUMN status TYPE billing.invoice_status USING status::billing.invoice_status;
ALTER TABLE billing.invoices ALTER COLUMN status SET DEFAULT 'draft';
