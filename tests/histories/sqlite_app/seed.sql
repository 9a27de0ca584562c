-- Seed: rows a 0.9 install holds (loaded after 000_baseline.sql).

INSERT INTO users (id, username, email, theme, created_at) VALUES
  (1, 'ada', 'ada@example.org', 'dark', '2020-11-02 09:20:00'),
  (2, 'bob', NULL, 'light', '2020-11-15 18:02:11'),
  (3, 'cyd', 'Cyd@Example.org', NULL, '2021-01-03 07:45:00'),
  (4, 'dee', 'dee@example.net', 'solarized', '2021-02-01 12:00:00');

INSERT INTO feeds (id, url, title, last_fetched) VALUES
  (1, 'https://blog.example.org/feed.xml', 'Example Blog', '2021-02-13 23:00:00'),
  (2, 'http://news.example.com/rss', 'Example News', '2021-02-14 06:00:00'),
  (3, 'https://podcasts.example.net/episodes.atom', 'Episodes', NULL),
  (4, 'https://dev.example.io/changelog.rss', 'Changelog', '2020-12-24 10:30:00'),
  (5, 'https://photos.example.org/feed', NULL, '2021-02-10 08:15:00');

INSERT INTO items (id, feed_id, guid, title, link, published, read, starred) VALUES
  (1, 1, 'post-101', 'Hello again', 'https://blog.example.org/101', '2021-01-04 10:00:00', 1, 0),
  (2, 1, 'post-102', 'On indexes', 'https://blog.example.org/102', '2021-01-11 10:00:00', 1, 1),
  (3, 1, 'post-103', 'Trigger happy', 'https://blog.example.org/103', '2021-01-18 10:00:00', 0, 0),
  (4, 1, 'post-104', 'WAL, explained', 'https://blog.example.org/104', '2021-02-01 10:00:00', 0, 1),
  (5, 2, 'n-5001', 'Markets open higher', 'http://news.example.com/5001', '2021-02-13 07:00:00', 1, 0),
  (6, 2, 'n-5002', 'Rain expected', 'http://news.example.com/5002', '2021-02-13 08:30:00', 0, 0),
  (7, 2, 'n-5003', 'Local team wins', 'http://news.example.com/5003', '2021-02-13 21:10:00', 0, 0),
  (8, 2, 'n-5004', 'Bridge reopens', 'http://news.example.com/5004', '2021-02-14 05:55:00', 0, 0),
  (9, 3, 'ep-1', 'Episode 1: Origins', 'https://podcasts.example.net/1', '2020-10-01 00:00:00', 1, 1),
  (10, 3, 'ep-2', 'Episode 2: Schema', 'https://podcasts.example.net/2', '2020-11-01 00:00:00', 1, 0),
  (11, 3, 'ep-3', 'Episode 3: Rollback', 'https://podcasts.example.net/3', '2020-12-01 00:00:00', 0, 0),
  (12, 4, 'v0.8.0', 'v0.8.0', 'https://dev.example.io/v0.8.0', '2020-09-30 12:00:00', 1, 0),
  (13, 4, 'v0.8.1', 'v0.8.1', 'https://dev.example.io/v0.8.1', '2020-10-15 12:00:00', 1, 0),
  (14, 4, 'v0.9.0', 'v0.9.0 "Pelican"', 'https://dev.example.io/v0.9.0', '2020-12-24 09:00:00', 0, 1),
  (15, 5, '', 'Untitled', 'https://photos.example.org/p/1', '2021-02-09 16:00:00', 0, 0),
  (16, 5, 'ph-2', 'Snow', 'https://photos.example.org/p/2', '2021-02-10 07:00:00', 1, 0),
  (17, 5, 'ph-3', NULL, 'https://photos.example.org/p/3', NULL, 0, 0),
  (18, 1, 'post-105', 'It''s a rebuild', 'https://blog.example.org/105', '2021-02-08 10:00:00', 0, 0),
  (19, 2, 'n-5005', 'Late edition', 'http://news.example.com/5005', '2021-02-14 06:00:00', 1, 1),
  (20, 3, 'ep-4', 'Episode 4: Seeds', 'https://podcasts.example.net/4', '2021-01-01 00:00:00', 0, 0);

INSERT INTO subscriptions (user_id, feed_id) VALUES
  (1, 1), (1, 2), (1, 4),
  (2, 2), (2, 3),
  (3, 1), (3, 5),
  (4, 4);
