-- Migration: Create labels
-- Date: 2023-03-14
-- Description: Per-account labels and the task/label join table.
-- Risk Level: LOW (new tables only)

CREATE TABLE labels (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        text NOT NULL,
    color       char(7) NOT NULL DEFAULT '#888888',
    CONSTRAINT labels_account_name_key UNIQUE (account_id, name)
);

CREATE TABLE task_labels (
    task_id   bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    label_id  bigint NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, label_id)
);

CREATE INDEX task_labels_label_id_idx ON task_labels (label_id);
