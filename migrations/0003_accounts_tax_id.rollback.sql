ALTER TABLE accounts DROP COLUMN tax_id;
