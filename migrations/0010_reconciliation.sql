-- depends: 0007_projection_rebuilds
-- The reconciliation read model: what the last check of each account found when the
-- ledger's view was compared with the processors' (`ledger reconcile`, the `customer.updated`
-- webhook, and every repair). Not a projection of events: the processors' side is not in
-- the store, so a check is the only source and each check replaces the account's rows (run
-- and findings) in one transaction. A stale check never replaces a newer one.
CREATE TABLE reconciliation_runs (
    account_id uuid PRIMARY KEY,
    checked_at timestamptz NOT NULL,
    account_version bigint NOT NULL,
    findings integer NOT NULL,
    by_kind jsonb NOT NULL,
    errors jsonb NOT NULL
);
CREATE TABLE reconciliation_findings (
    account_id uuid NOT NULL REFERENCES reconciliation_runs (account_id) ON DELETE CASCADE,
    seq integer NOT NULL,
    kind text NOT NULL,
    processor text NOT NULL,
    subject text NOT NULL,
    ledger_value text,
    processor_value text,
    repair text,
    detail text NOT NULL,
    PRIMARY KEY (account_id, seq)
);
CREATE INDEX reconciliation_findings_kind_idx ON reconciliation_findings (kind, account_id);
