"""The `portal_links` table (migrations/0021_portal_links.sql): the URLs of the customer's
billing portal sessions, short-lived and single-use. Only the SHA-256 of a URL's token is
stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from adapters.postgres.console_links import Connect


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class PortalLink:
    """What a used link opens: a session on this account, sending the customer back to
    `return_url` (when given)."""

    account_id: UUID
    return_url: str | None


class PostgresPortalLinks:
    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    def create(
        self, account_id: UUID, return_url: str | None, created_by: str, ttl: timedelta
    ) -> str:
        """A new link's token (shown once): it opens a session on `account_id` once, within
        `ttl`."""
        token = secrets.token_urlsafe(32)
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO portal_links (sha256, account_id, return_url, created_by, expires_at)"
                " VALUES (%s, %s, %s, %s, now() + %s)",
                (_digest(token), account_id, return_url, created_by, ttl),
            )
        return token

    def use(self, token: str) -> PortalLink | None:
        """What the link opens, marking it used; None for an unknown, used or expired link
        (one UPDATE: two browsers racing for one link, one wins)."""
        with self._connect() as conn:
            row = conn.execute(
                "UPDATE portal_links SET used_at = now() WHERE sha256 = %s"
                " AND used_at IS NULL AND expires_at > now() RETURNING account_id, return_url",
                (_digest(token),),
            ).fetchone()
        return PortalLink(row[0], row[1]) if row else None
