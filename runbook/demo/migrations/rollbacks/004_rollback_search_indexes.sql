-- Rollback: Add Search Indexes

DROP INDEX idx_partners_confidence;
DROP INDEX idx_partners_active;
DROP INDEX idx_contractors_focus_area;
DROP INDEX idx_contractors_stage;
