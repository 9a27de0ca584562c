-- Rollback: Create labels
-- Description: Drops the label tables (the join table first).

DROP TABLE task_labels;
DROP TABLE labels;
