-- Seed: rows the library's database holds at version 000 (loaded after 000_baseline.sql).

INSERT INTO members (id, name, email, phone, joined_at) VALUES
  (1, 'Ada Byron', 'ada@example.org', '555-0101', '2021-05-01 10:00:00'),
  (2, 'Grace Hopper', 'grace@example.org', '555-0102', '2021-06-12 11:30:00'),
  (3, 'Linus Pauling', 'LINUS@example.org', NULL, '2021-09-03 09:15:00'),
  (4, 'Pat O''Neil', 'pat@example.net', '555-0199', '2022-01-20 16:45:00'),
  (5, 'Hank Scorpio', 'hank@example.com', NULL, '2022-03-14 08:05:00'),
  (6, 'Margaret Hamilton', 'margaret@example.org', '555-0142', '2022-07-01 12:00:00');

INSERT INTO books (id, title, author, isbn, published_year) VALUES
  (1, 'The Pragmatic Shelf', 'A. Hunt', '978-0000000001', 1999),
  (2, 'Schemas in Practice', 'J. Date', '978-0000000002', 2004),
  (3, 'Rollback Stories', 'J. Date', '978-0000000003', 2021),
  (4, 'Indexes for Everyone', 'M. Winand', '978-0000000004', 2012),
  (5, 'The Quiet Migration', NULL, NULL, 2022),
  (6, 'Seed Data', 'A. Hunt', '978-0000000006', 2020),
  (7, 'Triggers and Tribulations', 'R. Snodgrass', '978-0000000007', 2018),
  (8, 'Lost in Translation', 'S. Glot', '978-0000000008', 2023),
  (9, 'Twelve Steps', 'R. Hipp', '978-0000000009', 2015),
  (10, 'Dollar Quotes', 'T. Lane', '978-0000000010', 2021);

INSERT INTO loans (id, member_id, book_id, loaned_at, returned_at) VALUES
  (1, 1, 2, '2022-02-01 10:00:00', '2022-02-20 10:00:00'),
  (2, 1, 3, '2022-06-01 10:00:00', NULL),
  (3, 2, 4, '2022-03-11 12:00:00', '2022-03-30 09:00:00'),
  (4, 3, 1, '2022-04-04 15:00:00', NULL),
  (5, 4, 6, '2023-01-15 11:00:00', NULL),
  (6, 2, 9, '2023-02-02 10:30:00', '2023-02-20 10:30:00'),
  (7, 6, 10, '2023-03-03 13:00:00', NULL),
  (8, 1, 8, '2023-04-01 09:45:00', NULL);
