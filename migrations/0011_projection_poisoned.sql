-- depends: 0010_reconciliation
-- Events a projection could not apply (its fold or its writer raised): the stream is parked
-- at that event. Later events of the stream wait behind it (not applied, not lost: a retry
-- reads them from the store), every other stream keeps flowing. One open row per
-- (projection, stream); a retry that applies everything sets `resolved_at`, a retry that
-- fails again updates the error, the event it stopped at, `attempts` and `last_tried_at`.
CREATE TABLE projection_poisoned (
    id bigserial PRIMARY KEY,
    projection text NOT NULL,
    stream_id uuid NOT NULL,
    version bigint NOT NULL,
    position bigint NOT NULL,
    event_type text NOT NULL,
    error text NOT NULL,
    correlation_id uuid,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_tried_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 1,
    resolved_at timestamptz
);

CREATE UNIQUE INDEX projection_poisoned_open_idx
    ON projection_poisoned (projection, stream_id) WHERE resolved_at IS NULL;
CREATE INDEX projection_poisoned_stream_idx
    ON projection_poisoned (stream_id) WHERE resolved_at IS NULL;
