-- Verify: 001_add_contractor_fields
-- Description: the contractor fields exist. Read-only: the query returns no row and fails when a
-- column is missing. (Its index is checked by the verify step's schema comparison.)

SELECT company_website, service_area, services_offered, verification_status, verification_code,
       focus_areas, primary_focus_area, annual_revenue, team_size, increased_tools, increased_people,
       increased_activity, current_stage, assigned_partner_id, demo_scheduled_date, opted_in_coaching
  FROM contractors
 WHERE 1 = 0;
