-- Case: Harbor's data fix in a DO block (a loop of UPDATEs): a data migration, Category 3, destructive (it overwrites tier), no "cannot be classified"
-- Dialect: postgresql
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: yes
-- Expect Findings: none

DO $$
DECLARE
    p RECORD;
BEGIN
    FOR p IN SELECT id, company_name FROM strategic_partners WHERE tier IS NULL
    LOOP
        IF p.company_name LIKE '%Gold%' THEN
            UPDATE strategic_partners SET tier = 'gold' WHERE id = p.id;
        END IF;
    END LOOP;
END $$;
