-- depends: 0020_fleet_lists
-- The customer's billing portal sessions' URLs (POST /internal/accounts/{id}/billing-portal-
-- sessions, `ledger portal link`): as console_links, only the SHA-256 of a URL's token is
-- kept; a URL is used once (used_at is set by the one UPDATE that accepts it) and only
-- before expires_at. It opens a browser session bound to account_id, which sends the
-- customer back to return_url (an allowed origin's URL) when given.
CREATE TABLE portal_links (
    sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    account_id uuid NOT NULL,
    return_url text,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX portal_links_expires_at ON portal_links (expires_at);
