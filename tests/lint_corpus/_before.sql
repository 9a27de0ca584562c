-- Migration: Corpus baseline (SQLite)
-- Date: 2025-01-01
-- Description: the schema every SQLite corpus case starts from (migration 000 of its folder).
-- Risk Level: LOW

CREATE TABLE regions (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL
);

CREATE TABLE strategic_partners (
  id INTEGER PRIMARY KEY,
  company_name VARCHAR(100) NOT NULL,
  is_active BOOLEAN DEFAULT TRUE,
  tier VARCHAR(20),
  region_id INTEGER REFERENCES regions(id)
);

CREATE TABLE contractors (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT UNIQUE NOT NULL,
  phone TEXT,
  company_name VARCHAR(100),
  services_offered TEXT DEFAULT '[]',
  assigned_partner_id INTEGER REFERENCES strategic_partners(id),
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE contractor_notes (
  id INTEGER PRIMARY KEY,
  contractor_id INTEGER NOT NULL,
  note TEXT
);
