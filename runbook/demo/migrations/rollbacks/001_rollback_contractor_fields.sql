-- Rollback: Add Enhanced Contractor Fields
-- Description: Back to the baseline contractors table. Unlike the guide's table rebuild,
--              this uses ALTER TABLE ... DROP COLUMN (SQLite has it since 3.35.0, 2021), which
--              keeps every original row, column and index as it was. The index on
--              assigned_partner_id goes first: SQLite refuses to drop an indexed column.

DROP INDEX idx_contractors_assigned_partner;
ALTER TABLE contractors DROP COLUMN opted_in_coaching;
ALTER TABLE contractors DROP COLUMN demo_scheduled_date;
ALTER TABLE contractors DROP COLUMN assigned_partner_id;
ALTER TABLE contractors DROP COLUMN current_stage;
ALTER TABLE contractors DROP COLUMN increased_activity;
ALTER TABLE contractors DROP COLUMN increased_people;
ALTER TABLE contractors DROP COLUMN increased_tools;
ALTER TABLE contractors DROP COLUMN team_size;
ALTER TABLE contractors DROP COLUMN annual_revenue;
ALTER TABLE contractors DROP COLUMN primary_focus_area;
ALTER TABLE contractors DROP COLUMN focus_areas;
ALTER TABLE contractors DROP COLUMN verification_code;
ALTER TABLE contractors DROP COLUMN verification_status;
ALTER TABLE contractors DROP COLUMN services_offered;
ALTER TABLE contractors DROP COLUMN service_area;
ALTER TABLE contractors DROP COLUMN company_website;
