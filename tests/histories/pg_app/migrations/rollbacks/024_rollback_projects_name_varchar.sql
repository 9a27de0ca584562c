-- Rollback: Project names at most 200 characters

DROP VIEW open_tasks;

ALTER TABLE projects ALTER COLUMN name TYPE text;

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
