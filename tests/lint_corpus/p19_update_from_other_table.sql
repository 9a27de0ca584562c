-- Case: UPDATE ... FROM moves data between tables: Category 3
-- Dialect: postgresql
-- Risk Level: HIGH
-- Rollback: yes
-- Expect Category: 3
-- Expect Destructive: yes
-- Expect Findings: none

UPDATE contractors SET company_name = p.company_name FROM strategic_partners p WHERE p.id = contractors.assigned_partner_id;
