-- Migration: Corpus baseline (PostgreSQL)
-- Date: 2025-01-01
-- Description: the schema every PostgreSQL corpus case starts from (migration 000 of its folder).
-- Risk Level: LOW

CREATE TABLE regions (
  id SERIAL PRIMARY KEY,
  name TEXT NOT NULL
);

CREATE TABLE strategic_partners (
  id SERIAL PRIMARY KEY,
  company_name VARCHAR(100) NOT NULL,
  is_active BOOLEAN DEFAULT TRUE,
  tier VARCHAR(20),
  region_id INTEGER,
  CONSTRAINT partners_region_fk FOREIGN KEY (region_id) REFERENCES regions (id),
  CONSTRAINT partners_tier_check CHECK (tier IN ('gold', 'silver'))
);

CREATE TABLE contractors (
  id SERIAL PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  phone TEXT,
  company_name VARCHAR(100),
  services_offered TEXT DEFAULT '[]',
  assigned_partner_id INTEGER,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT contractors_email_key UNIQUE (email),
  CONSTRAINT contractors_partner_fk FOREIGN KEY (assigned_partner_id) REFERENCES strategic_partners (id)
);

CREATE TABLE contractor_notes (
  id SERIAL PRIMARY KEY,
  contractor_id INTEGER NOT NULL,
  note TEXT
);
