-- depends: 0024_scheduled_jobs
-- Per-account data keys (commands/personal.py, adapters/postgres/data_keys.py): the
-- personal fields of an account's events are sealed with its key (AES-256-GCM). Forgetting
-- the account destroys the key: `data_key` becomes NULL and the row stays as a tombstone,
-- so no new key is ever created for that account. A KMS can replace this table (the
-- DataKeys port); keys are kept here unwrapped, so this table needs the protection a key
-- store gets (backups of it expire, access is limited to the ledger's role).
CREATE TABLE account_data_keys (
    account_id uuid PRIMARY KEY,
    data_key bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz,
    CHECK ((data_key IS NULL) = (destroyed_at IS NOT NULL)),
    CHECK (data_key IS NULL OR length(data_key) = 32)
);

-- Which events were rewritten by `accounts encrypt-personal-data` (their personal fields
-- were in clear, stored before sealing existed), with the chain hashes before and after:
-- `ledger audit verify` checks the rewritten chain, this table says why it changed.
CREATE TABLE event_rewrites (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    rewritten_at timestamptz NOT NULL DEFAULT now(),
    reason text NOT NULL,
    hash_before bytea NOT NULL,
    hash_after bytea NOT NULL,
    PRIMARY KEY (originator_id, originator_version, rewritten_at)
);
