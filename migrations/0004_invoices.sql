-- depends: 0003_accounts_tax_id
-- The invoice history read model: one row per invoice. The status people see depends on
-- the time (past due), so it is not stored: the transition timestamps are.
CREATE TABLE invoices (
    account_id uuid NOT NULL,
    invoice_id text NOT NULL,
    number text,
    status text NOT NULL,
    created_at timestamptz NOT NULL,
    finalized_at timestamptz,
    due_at timestamptz,
    paid_at timestamptz,
    marked_uncollectible_at timestamptz,
    voided_at timestamptz,
    currency text NOT NULL,
    total bigint NOT NULL,
    credit_applied bigint NOT NULL,
    amount_due bigint NOT NULL,
    paid_out_of_band boolean NOT NULL,
    -- lines, credits used, payment attempts (refunds, dispute) and the status timeline
    detail jsonb NOT NULL,
    version bigint NOT NULL,
    PRIMARY KEY (account_id, invoice_id)
);

-- Keyset pagination, newest first.
CREATE INDEX invoices_newest ON invoices (account_id, created_at DESC, invoice_id DESC);
-- Date filters: issued, due, paid.
CREATE INDEX invoices_issued ON invoices (account_id, finalized_at);
CREATE INDEX invoices_due ON invoices (account_id, due_at);
CREATE INDEX invoices_paid ON invoices (account_id, paid_at);
