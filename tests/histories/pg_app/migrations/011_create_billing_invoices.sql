-- Migration: billing.invoices
-- Date: 2023-07-10
-- Description: Invoices, in cents for now.
-- Risk Level: LOW (new table)

CREATE TABLE billing.invoices (
    id            bigserial PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES public.accounts (id),
    amount_cents  integer NOT NULL,
    currency      char(3) NOT NULL DEFAULT 'USD',
    status        text NOT NULL DEFAULT 'draft',
    issued_at     timestamptz
);

COMMENT ON TABLE billing.invoices IS E'One row per invoice sent.\nAmounts are in the account\'s currency; a ; here ends nothing.';
