-- depends: 0013_reconciliation_repairs
-- The simulated processor of the embedded default (adapters/simulated): what it holds as
-- Stripe (customers, cards, payments) and Braintree (PayPal accounts) would, so that a
-- restart keeps it and reconciliation compares the ledger against it. Never used when a
-- real processor is configured, and refused in production settings.
CREATE TABLE sim_customers (
    customer_id text PRIMARY KEY,
    processor text NOT NULL,
    account_id text NOT NULL,
    name text,
    email text,
    default_method text,
    UNIQUE (processor, account_id)
);

CREATE TABLE sim_methods (
    method_ref text PRIMARY KEY,
    customer_id text NOT NULL REFERENCES sim_customers (customer_id),
    kind text NOT NULL,               -- card | paypal
    card_token text,                  -- the Stripe test card it stands for (pm_card_visa)
    billing_agreement_id text,        -- PayPal vaulted as a billing agreement
    payer_email text,
    authenticated boolean NOT NULL DEFAULT false,  -- set up through a confirmed setup
    detached boolean NOT NULL DEFAULT false
);

CREATE TABLE sim_setups (
    setup_id text PRIMARY KEY,
    customer_id text NOT NULL REFERENCES sim_customers (customer_id),
    confirmed_method text
);

CREATE TABLE sim_charges (
    attempt_id text PRIMARY KEY,
    processor text NOT NULL,
    payment_id text NOT NULL UNIQUE,
    method_ref text NOT NULL,
    amount bigint NOT NULL,
    currency text NOT NULL,
    status text NOT NULL,             -- succeeded | failed | requires_action | canceled
    decline_code text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sim_refunds (
    refund_id text PRIMARY KEY,       -- the ledger's refund id (the idempotency key)
    processor_refund_id text NOT NULL UNIQUE,
    payment_id text NOT NULL REFERENCES sim_charges (payment_id),
    amount bigint NOT NULL
);

CREATE TABLE sim_disputes (
    dispute_id text PRIMARY KEY,
    payment_id text NOT NULL REFERENCES sim_charges (payment_id),
    amount bigint NOT NULL,
    state text NOT NULL               -- open | won | lost
);
