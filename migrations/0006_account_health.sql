-- depends: 0004_invoices 0005_audit_chain
-- The account health read model: one row per account with the facts its health state is
-- computed from. The state itself depends on the time (days past due, stuck attempts), so
-- it is not stored: queries/health.py derives it at read time. `detail` is the fold state
-- (open/uncollectible invoices, their attempts, methods, subscriptions) the row is made of.
CREATE TABLE account_health (
    account_id uuid PRIMARY KEY,
    currency text NOT NULL,
    collection_path text NOT NULL,
    provider_links jsonb NOT NULL,
    outstanding bigint NOT NULL,
    uncollectible bigint NOT NULL,
    oldest_unpaid_due_at timestamptz,
    oldest_unpaid_finalized_at timestamptz,
    dunning_anchor_at timestamptz,
    failed_attempts integer NOT NULL,
    last_failed_attempt_at timestamptz,
    last_successful_payment_at timestamptz,
    attempt_in_flight_since timestamptz,
    bad_debt_payment_in_flight boolean NOT NULL,
    usable_default_method boolean NOT NULL,
    active_subscriptions integer NOT NULL,
    closed boolean NOT NULL,
    detail jsonb NOT NULL,
    version bigint NOT NULL
);
