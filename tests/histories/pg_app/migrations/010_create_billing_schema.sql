-- Migration: billing schema
-- Date: 2023-07-03
-- Description: Billing gets its own schema (the billing service's role is granted only
--              that one): plans and subscriptions.
-- Risk Level: LOW (new schema and tables)

CREATE SCHEMA billing;

CREATE TABLE billing.plans (
    code         text PRIMARY KEY,
    name         text NOT NULL,
    price_cents  integer NOT NULL CHECK (price_cents >= 0)
);

CREATE TABLE billing.subscriptions (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES public.accounts (id) ON DELETE CASCADE,
    plan_code   text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz
);

CREATE INDEX subscriptions_account_id_idx ON billing.subscriptions (account_id);
