-- Migration: Project names at most 200 characters
-- Date: 2024-03-04
-- Description: The UI cuts names at 200; the column says so. open_tasks selects
--              projects.name and a column a view uses cannot change type, so the view is
--              dropped and recreated, unchanged, around the change.
-- Risk Level: MEDIUM (column type change)

DROP VIEW open_tasks;

ALTER TABLE projects ALTER COLUMN name TYPE varchar(200);

CREATE VIEW open_tasks AS
SELECT t.id,
       t.title,
       t.state,
       t.priority,
       p.name AS project_name,
       p.account_id
  FROM tasks t
  JOIN projects p ON p.id = t.project_id
 WHERE t.state <> 'done'
   AND NOT p.archived;
