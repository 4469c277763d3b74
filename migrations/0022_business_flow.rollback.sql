DROP TABLE reconciliation_finding_totals;
DROP TABLE business_flow_invoices;
DROP TABLE business_flow_attempts;
DROP TABLE business_flow_counts;
DELETE FROM projection_streams WHERE projection = 'business_flow';
DELETE FROM projection_positions WHERE projection = 'business_flow';
DELETE FROM projection_poisoned WHERE projection = 'business_flow';
DELETE FROM projection_rebuilds WHERE projection = 'business_flow';
