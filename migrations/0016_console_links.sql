-- depends: 0015_test_clocks
-- The support console's sign-in links (`ledger console link`, POST /internal/console/links):
-- only the SHA-256 of a link's token is kept. A link signs in once (used_at is set by the
-- one UPDATE that accepts it) and only before expires_at. Kept in PostgreSQL, not with the
-- browser sessions, so the CLI that makes a link and the API process that accepts it need
-- share nothing else (the embedded default keeps its sessions in process).
CREATE TABLE console_links (
    sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    principal_id text NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX console_links_expires_at ON console_links (expires_at);
