-- Migration: Baseline (the guide's "Current Schema State")
-- Date: 2025-01-01
-- Description: contractors, strategic_partners and admin_users as they stand in production.
--              A database that already has these tables and no schema_history table is
--              adopted: this migration is recorded as applied and never re-run on it.
-- Risk Level: LOW (creates tables)

CREATE TABLE contractors (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT UNIQUE NOT NULL,
  phone TEXT,
  company_name TEXT,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE strategic_partners (
  id INTEGER PRIMARY KEY,
  company_name TEXT NOT NULL,
  is_active BOOLEAN DEFAULT TRUE,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE admin_users (
  id INTEGER PRIMARY KEY,
  email TEXT UNIQUE NOT NULL,
  password_hash TEXT NOT NULL,
  full_name TEXT,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
