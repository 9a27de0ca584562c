-- Rollback: billing schema

DROP TABLE billing.subscriptions;
DROP TABLE billing.plans;
DROP SCHEMA billing;
