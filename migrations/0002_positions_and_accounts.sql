-- depends: 0001_event_store
-- Positions of the relay and of every projection, and the first read model.

-- The relay's durable position in the global notification order.
CREATE TABLE relay_positions (
    relay text PRIMARY KEY,
    position bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The last stream version each projection applied per account: every replay (Kafka
-- redelivery, rebuild overlapping a resumed consumer, one-account recompute) reduces to
-- "skip versions already applied".
CREATE TABLE projection_streams (
    projection text NOT NULL,
    stream_id uuid NOT NULL,
    version bigint NOT NULL,
    PRIMARY KEY (projection, stream_id)
);

-- Per projection: the highest global position applied (for lag), the resume point of the
-- direct event-store feed (contiguous, used by rebuilds and embedded mode) and when the
-- last applied event happened.
CREATE TABLE projection_positions (
    projection text PRIMARY KEY,
    max_position bigint NOT NULL DEFAULT 0,
    feed_position bigint NOT NULL DEFAULT 0,
    last_event_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
    account_id uuid PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL,
    country char(2) NOT NULL,
    currency char(3) NOT NULL,
    status text NOT NULL,
    opened_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    closed_at timestamptz,
    version bigint NOT NULL,
    events_applied bigint NOT NULL
);

CREATE INDEX accounts_opened_at_idx ON accounts (opened_at DESC, account_id DESC);
