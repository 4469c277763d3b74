-- depends: 0015_test_clocks
-- Who moved a test clock, when, from when to when and why (support gives a reason; the CLI
-- may), and what the billing run did on the way: the advance's own record, since a clock
-- is not an account event (docs/architecture.md, "Test clocks"). `command_id` (from an
-- Idempotency-Key) makes a repeated request answer the first advance instead of moving
-- the clock again.
CREATE TABLE test_clock_advances (
    advance_id bigserial PRIMARY KEY,
    clock_id text NOT NULL REFERENCES test_clocks (clock_id),
    command_id uuid UNIQUE,
    fingerprint text,
    from_at timestamptz NOT NULL,
    to_at timestamptz NOT NULL,
    actor_id text NOT NULL,
    actor_kind text NOT NULL,
    surface text NOT NULL,
    reason text,
    correlation_id uuid NOT NULL,
    steps integer,
    renewed integer,
    attempts integer,
    exhausted integer,
    errors integer,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX test_clock_advances_clock ON test_clock_advances (clock_id, advance_id);
