-- Migration: Baseline
-- Date: 2023-03-01
-- Description: The schema as deployed when the project adopted versioned migrations:
--              accounts, their users, projects and tasks.
-- Risk Level: LOW (creates tables)

CREATE TABLE accounts (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    plan        text NOT NULL DEFAULT 'free',
    created_at  timestamp NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email       varchar(320) NOT NULL UNIQUE,
    full_name   text,
    phone       text,
    created_at  timestamp NOT NULL DEFAULT now()
);

CREATE TABLE projects (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        text NOT NULL,
    archived    boolean NOT NULL DEFAULT false,
    created_at  timestamp NOT NULL DEFAULT now()
);

CREATE TABLE tasks (
    id          bigserial PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    assignee_id bigint REFERENCES users (id) ON DELETE SET NULL,
    title       text NOT NULL,
    body        text,
    state       text NOT NULL DEFAULT 'open',
    priority    integer,
    created_at  timestamp NOT NULL DEFAULT now(),
    updated_at  timestamp NOT NULL DEFAULT now()
);

CREATE INDEX tasks_project_id_idx ON tasks (project_id);
