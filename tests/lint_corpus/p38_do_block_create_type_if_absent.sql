-- Case: Drizzle's enum, created unless it exists (DO ... EXCEPTION WHEN duplicate_object): a new type, Category 1
-- Dialect: postgresql
-- Risk Level: LOW
-- Rollback: yes
-- Expect Category: 1
-- Expect Destructive: no
-- Expect Findings: none

DO $$ BEGIN
 CREATE TYPE "public"."contractor_tier" AS ENUM('basic', 'pro');
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
