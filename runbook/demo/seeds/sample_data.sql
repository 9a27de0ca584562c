-- Seed: sample data for the demo (invented people and companies, .example domains).
-- The guide's production counts: 11 contractors, 3 strategic partners, 1 admin user.
-- The admin's password_hash is a real PBKDF2-SHA256 hash of a random password that was thrown away.
-- ids are left to the database, so the same file loads on SQLite and PostgreSQL.

INSERT INTO contractors (name, email, phone, company_name, created_at, updated_at) VALUES
  ('Maria Alvarez', 'maria@alvarezroofing.example', '555-0101', 'Alvarez Roofing & Gutters', '2024-03-01 10:00:00', '2024-03-01 10:00:00'),
  ('Derek Olsen', 'derek@olsenhvac.example', '555-0102', 'Olsen Heating and Air', '2024-04-03 11:00:00', '2024-04-03 11:00:00'),
  ('Priya Raman', 'priya@ramanremodel.example', '555-0103', 'Raman Remodeling', '2024-05-05 12:00:00', '2024-05-05 12:00:00'),
  ('Tom Becker', 'tom@beckerplumbing.example', NULL, 'Becker Plumbing Co.', '2024-06-07 13:00:00', '2024-06-07 13:00:00'),
  ('Aisha Johnson', 'aisha@brightpathsolar.example', '555-0105', 'BrightPath Solar', '2024-07-09 14:00:00', '2024-07-09 14:00:00'),
  ('Luis Ortega', 'luis@ortegaconcrete.example', '555-0106', 'Ortega Concrete', '2024-08-11 15:00:00', '2024-08-11 15:00:00'),
  ('Hannah Kim', 'hannah@kimelectric.example', '555-0107', 'Kim Electric', '2024-09-13 16:00:00', '2024-09-13 16:00:00'),
  ('Samuel Price', 'sam@pricewindows.example', '555-0108', 'Price Windows & Doors', '2024-10-15 17:00:00', '2024-10-15 17:00:00'),
  ('Grace O''Neill', 'grace@oneilllandscape.example', NULL, 'O''Neill Landscape Design', '2024-11-17 18:00:00', '2024-11-17 18:00:00'),
  ('Victor Nwosu', 'victor@nwosubuilders.example', '555-0110', 'Nwosu Builders', '2024-03-19 19:00:00', '2024-03-19 19:00:00'),
  ('Elena Petrova', 'elena@petrovapainting.example', '555-0111', NULL, '2024-04-21 10:00:00', '2024-04-21 10:00:00');

INSERT INTO strategic_partners (company_name, is_active, created_at, updated_at) VALUES
  ('Summit Business Coaching', TRUE, '2024-01-15 09:00:00', '2024-01-15 09:00:00'),
  ('LeadForge Marketing', TRUE, '2024-02-15 09:00:00', '2024-02-15 09:00:00'),
  ('Ledgerline Financial', FALSE, '2024-03-15 09:00:00', '2024-03-15 09:00:00');

INSERT INTO admin_users (email, password_hash, full_name, created_at) VALUES
  ('ops@power100.example', 'pbkdf2_sha256$600000$dedb362be3c5b88c$wiZzLTELrXV2Z/0xMOanLrtDkuyypBh3MysdwFNT/Z8=', 'Operations Admin', '2024-01-02 08:00:00');
