DROP INDEX account_health_provider_links;
DROP INDEX invoices_number;
DROP INDEX accounts_email_trgm;
DROP INDEX accounts_name_trgm;
