-- Case: Drizzle's foreign key, added unless it exists (DO ... EXCEPTION): classified as the ALTER TABLE it runs, Category 2
-- Dialect: postgresql
-- Risk Level: MEDIUM
-- Rollback: yes
-- Expect Category: 2
-- Expect Destructive: no
-- Expect Findings: none

DO $$ BEGIN
 ALTER TABLE "contractor_notes" ADD CONSTRAINT "notes_contractor_fk" FOREIGN KEY ("contractor_id") REFERENCES "public"."contractors"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
