-- depends: 0006_account_health
-- One row per projection rebuild: where it is (a rerun resumes a 'building' one from its
-- shadow schema) and what the swap changed.
CREATE TABLE projection_rebuilds (
    projection text PRIMARY KEY,
    shadow_schema text NOT NULL,
    phase text NOT NULL CHECK (phase IN ('building', 'swapped')),
    started_at timestamptz NOT NULL DEFAULT now(),
    started_head bigint NOT NULL,
    swapped_at timestamptz,
    swapped_position bigint,
    accounts_compared bigint,
    accounts_changed bigint,
    updated_at timestamptz NOT NULL DEFAULT now()
);
