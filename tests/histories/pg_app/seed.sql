-- Seed: rows a production database at version 000 holds (loaded after 000_baseline.sql).
-- The ids come from the sequences (1, 2, ... in this order on a fresh database).

INSERT INTO accounts (name, plan, created_at) VALUES
    ('Acme Corp', 'team', '2022-11-02 09:15:00'),
    ('O''Neil & Sons', 'free', '2022-12-11 16:40:00'),
    ('Globex', 'enterprise', '2023-01-20 08:00:00');

INSERT INTO users (account_id, email, full_name, phone, created_at) VALUES
    (1, 'ada@acme.example', 'Ada Byron', '555-0101', '2022-11-02 09:20:00'),
    (1, 'grace@acme.example', 'Grace Hopper', '555-0102', '2022-11-03 10:00:00'),
    (1, 'linus@acme.example', NULL, NULL, '2022-11-09 11:30:00'),
    (2, 'pat@oneil.example', 'Pat O''Neil', '555-0199', '2022-12-11 16:45:00'),
    (3, 'hank@globex.example', '   ', NULL, '2023-01-20 08:05:00'),
    (3, 'ops@globex.example', 'Globex Ops', '555-0142', '2023-01-21 12:00:00');

INSERT INTO projects (account_id, name, archived, created_at) VALUES
    (1, 'Website relaunch', false, '2022-11-04 09:00:00'),
    (1, 'Q4 hiring', true, '2022-11-05 09:00:00'),
    (2, 'Shop floor', false, '2022-12-12 08:30:00'),
    (3, 'Cooling tower', false, '2023-01-22 07:45:00');

INSERT INTO tasks (project_id, assignee_id, title, body, state, priority, created_at, updated_at) VALUES
    (1, 1, 'Pick a CMS', 'Compare three; write it up.', 'done', 2, '2022-11-04 10:00:00', '2022-11-20 10:00:00'),
    (1, 2, 'Draft the sitemap', NULL, 'in_progress', 1, '2022-11-04 10:05:00', '2022-11-21 09:00:00'),
    (1, NULL, 'Migrate the blog', 'All posts since 2015.', 'open', 3, '2022-11-04 10:10:00', '2022-11-04 10:10:00'),
    (1, 3, 'Set up redirects', NULL, 'open', NULL, '2022-11-05 14:00:00', '2022-11-05 14:00:00'),
    (2, 2, 'Post the job ad', 'Two backend roles.', 'done', 2, '2022-11-05 09:30:00', '2022-12-01 09:30:00'),
    (2, 1, 'Screen candidates', NULL, 'done', 2, '2022-11-06 09:30:00', '2022-12-15 09:30:00'),
    (3, 4, 'Order new shelving', 'Measure first; it''s a tight fit.', 'open', 4, '2022-12-12 09:00:00', '2022-12-12 09:00:00'),
    (3, 4, 'Fix the loading door', NULL, 'in_progress', 1, '2022-12-13 09:00:00', '2022-12-20 09:00:00'),
    (4, 5, 'Inspect the fans', 'Quarterly.', 'open', 5, '2023-01-22 08:00:00', '2023-01-22 08:00:00'),
    (4, 6, 'Replace the filter', NULL, 'done', 3, '2023-01-23 08:00:00', '2023-02-01 08:00:00'),
    (4, 6, 'Write the runbook', E'Steps:\n1. stop\n2. drain', 'open', 2, '2023-01-24 08:00:00', '2023-01-24 08:00:00'),
    (4, NULL, 'Order spare parts', NULL, 'open', NULL, '2023-01-25 08:00:00', '2023-01-25 08:00:00');
