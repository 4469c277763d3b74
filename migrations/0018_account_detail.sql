-- depends: 0017_console_search
-- The account detail read model (projections/detail.py): one row per account with its
-- payment methods, subscriptions and credits as a person reads them (brand, last four,
-- expiry, PayPal payer, vault path; plan, period, scheduled cancellation; credit granted,
-- used, remaining, expiry, who and why). The support console's account page reads it.
CREATE TABLE account_detail (
    account_id uuid PRIMARY KEY,
    default_method_id text,
    methods jsonb NOT NULL,
    subscriptions jsonb NOT NULL,
    credits jsonb NOT NULL,
    version bigint NOT NULL
);
