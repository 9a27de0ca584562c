-- Migration: open_tasks view
-- Date: 2023-05-22
-- Description: The dashboard's query, as a view: tasks not done, in projects not archived.
-- Risk Level: LOW (new view)

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
