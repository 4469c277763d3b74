-- depends: 0010_reconciliation
-- API keys managed by `ledger keys` (new, list, revoke): only the SHA-256 of a key is kept.
-- The API reads a key here on first use and trusts what it read for a few seconds
-- (LEDGER_API_KEY_CACHE_S), so a revoked or expired key stops working in every API process
-- without a restart. Rows are never deleted: a revoked key stays listed, with when.
CREATE TABLE api_keys (
    key_id text PRIMARY KEY,
    sha256 text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    principal_id text NOT NULL,
    kind text NOT NULL,
    scopes text[] NOT NULL DEFAULT '{}',
    account_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz
);
