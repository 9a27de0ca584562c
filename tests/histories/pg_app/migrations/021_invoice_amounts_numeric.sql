-- Migration: Invoice amounts in currency units
-- Date: 2024-01-08
-- Description: amount_cents (integer cents) becomes amount, numeric(12,2) in currency units,
--              for currencies whose minor unit is not a hundredth. Existing amounts are divided
--              by 100.
-- Risk Level: HIGH (values of an existing column are converted)

ALTER TABLE billing.invoices RENAME COLUMN amount_cents TO amount;
ALTER TABLE billing.invoices ALTER COLUMN amount TYPE numeric(12, 2) USING amount / 100.0;
