-- Rollback: Account plans move to billing.subscriptions
-- Description: The open subscription's plan goes back into accounts.plan; the subscriptions
--              016 created (all of them: the table was empty before) are deleted.

ALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free';

UPDATE accounts a
   SET plan = s.plan_code
  FROM billing.subscriptions s
 WHERE s.account_id = a.id
   AND s.ended_at IS NULL;

DELETE FROM billing.subscriptions;
