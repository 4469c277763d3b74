-- depends: 0021_portal_links
-- The business flow read model (projections/business_flow.py): per account, how many times
-- each business step happened (`metric`, as exported, with its `labels`), counted from the
-- events; the scrape sums them over the accounts (adapters/flow_metrics.py). Beside the
-- counts, what the fold needs to label later events: the attempts still in flight and the
-- invoices not yet paid or void.
CREATE TABLE business_flow_counts (
    account_id uuid NOT NULL,
    metric text NOT NULL,
    labels jsonb NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (account_id, metric, labels)
);
CREATE TABLE business_flow_attempts (
    account_id uuid NOT NULL,
    attempt_id text NOT NULL,
    invoice_id text NOT NULL,
    processor text NOT NULL,
    session text NOT NULL,
    purpose text NOT NULL,
    PRIMARY KEY (account_id, attempt_id)
);
CREATE TABLE business_flow_invoices (
    account_id uuid NOT NULL,
    invoice_id text NOT NULL,
    status text NOT NULL,
    collection_failures integer NOT NULL,
    PRIMARY KEY (account_id, invoice_id)
);
-- Reconciliation's findings are not events (a check compares with the processors and
-- replaces the account's findings): each stored check adds here the findings its account's
-- previous check did not have (same kind, processor and subject), by kind
-- (adapters/postgres/reconciliation.py). The findings stored already count as found.
CREATE TABLE reconciliation_finding_totals (
    kind text PRIMARY KEY,
    found bigint NOT NULL
);
INSERT INTO reconciliation_finding_totals (kind, found)
SELECT kind, count(*) FROM reconciliation_findings GROUP BY kind;
