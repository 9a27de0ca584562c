-- Migration: Account plans move to billing.subscriptions
-- Date: 2023-10-09
-- Description: accounts.plan becomes one open subscription per account (started when the
--              account was created); the column is dropped.
-- Risk Level: HIGH (data moves between tables; a column is dropped)

INSERT INTO billing.subscriptions (account_id, plan_code, started_at)
SELECT id, plan, created_at
  FROM accounts
 ORDER BY id;

ALTER TABLE accounts DROP COLUMN plan;
