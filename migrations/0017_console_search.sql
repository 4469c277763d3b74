-- depends: 0016_console_links 0006_account_health
-- Indexes for the support console's account search (queries/search.py): part of a name or
-- an email (trigrams, pg_trgm: a trusted extension, so the database's owner may create
-- it), an invoice number, and a processor's customer id among an account's provider links.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX accounts_name_trgm ON accounts USING gin (lower(name) gin_trgm_ops);
CREATE INDEX accounts_email_trgm ON accounts USING gin (lower(email) gin_trgm_ops);
CREATE INDEX invoices_number ON invoices (number) WHERE number IS NOT NULL;
CREATE INDEX account_health_provider_links ON account_health USING gin (provider_links jsonb_path_ops);
