-- depends: 0014_simulated_processor
-- Test clocks (development and tests only; refused in production settings): a clock a
-- developer or support advances, and the accounts attached to it, whose billing runs at
-- the clock's time. A side table, not account events: see docs/architecture.md.
CREATE TABLE test_clocks (
    clock_id text PRIMARY KEY,
    name text NOT NULL UNIQUE,
    started_at timestamptz NOT NULL,
    frozen_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    advanced_at timestamptz
);

CREATE TABLE test_clock_accounts (
    account_id uuid PRIMARY KEY,
    clock_id text NOT NULL REFERENCES test_clocks (clock_id),
    attached_by text NOT NULL,
    reason text NOT NULL,
    attached_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX test_clock_accounts_clock ON test_clock_accounts (clock_id);
