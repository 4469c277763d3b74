ALTER TABLE reconciliation_findings DROP COLUMN repairs;
