-- Migration: Create the task_state enum
-- Date: 2023-04-18
-- Description: The states a task can be in, as a type (tasks.state moves to it in 005).
-- Risk Level: LOW (new type)

CREATE TYPE task_state AS ENUM ('open', 'in_progress', 'done');
