-- Migration: member_summary view
-- Date: 2024-04-14
-- Description: Loans per member for the annual report.
-- Risk Level: LOW (new view)

CREATE VIEW member_summary AS
SELECT m.id AS member_id, m.name, m.membership_tier, COUNT(l.id) AS loans
  FROM members AS m
  LEFT JOIN loans AS l ON l.member_id = m.id
 GROUP BY m.id, m.name, m.membership_tier;
